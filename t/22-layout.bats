#!/usr/bin/env bats
# make check-layout (t/layout/check.py): the tree keeps its one-way layers,
# and the checker really catches each kind of breach on a small made-up
# tree.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	TREE="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$TREE/shared/proto" "$TREE/shared/conf" "$TREE/shared/ctl" \
	    "$TREE/master" "$TREE/worker"
	printf '#include "num.h"\nint\nnum_f(void)\n{\n\treturn 0;\n}\n' \
	    >"$TREE/shared/proto/num.c"
	: >"$TREE/shared/proto/num.h"
	: >"$TREE/shared/shm.h"
	: >"$TREE/shared/ctl/ctl.h"
	: >"$TREE/worker/worker.h"
	: >"$TREE/worker/conn.h"
	printf '#include "shared/shm.h"\n#include "worker/worker.h"\n' \
	    >"$TREE/master/main.c"
}

check() {
	run /usr/bin/python3 "$REPO/t/layout/check.py" "$TREE"
}

@test "the source tree passes its layout check" {
	run /usr/bin/python3 "$REPO/t/layout/check.py" "$REPO"
	assert_success
	assert_output --partial "check-layout: 0 problems"
}

@test "layout: a clean made-up tree passes" {
	check
	assert_success
}

@test "layout: an include that points up a layer is named with its file and line" {
	printf '#include <stdio.h>\n#include "shared/shm.h"\n' \
	    >"$TREE/shared/proto/bad.c"
	check
	assert_failure
	assert_output --partial 'shared/proto/bad.c:2: shared/proto/ may not include "shared/shm.h"'
}

@test "layout: nothing includes fcgatectl, and master takes only worker.h from worker/" {
	printf '#include "shared/ctl/ctl.h"\n' >"$TREE/worker/bad.c"
	printf '#include "worker/conn.h"\n' >"$TREE/master/bad.c"
	check
	assert_failure
	assert_output --partial 'worker/bad.c:1: worker/ may not include "shared/ctl/ctl.h"'
	assert_output --partial 'master/bad.c:1: master/ may not include "worker/conn.h"'
}

@test "layout: a file over 600 lines and a function over 60 are named" {
	{ printf 'int\nlong_one(void)\n{\n'
	  for i in $(seq 1 70); do printf '\t(void)0;\n'; done
	  printf '\treturn 0;\n}\n'
	  for i in $(seq 1 600); do printf '\n'; done; } >"$TREE/worker/big.c"
	check
	assert_failure
	assert_output --partial 'worker/big.c:2: function long_one has 74 lines (limit 60)'
	assert_output --regexp 'worker/big.c:[0-9]+: file has [0-9]+ lines \(limit 600\)'
}

@test "layout: worker files that depend on each other in a circle are named" {
	printf '#include "b.h"\n' >"$TREE/worker/a.c"
	: >"$TREE/worker/a.h"
	printf '#include "a.h"\n' >"$TREE/worker/b.c"
	: >"$TREE/worker/b.h"
	check
	assert_failure
	assert_output --partial 'worker/: files depend on each other in a circle: a -> b -> a'
}

@test "layout: an include of a file that does not exist is named" {
	printf '#include "nowhere.h"\n' >"$TREE/worker/lost.c"
	check
	assert_failure
	assert_output --partial 'worker/lost.c:1: include "nowhere.h" names no file in the tree'
}
