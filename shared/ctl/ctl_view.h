/*
 * ctl_view.h - fcgatectl's views of the segment: `status`, `workers`.
 */
#ifndef FCGATE_CTL_VIEW_H
#define FCGATE_CTL_VIEW_H

#include "ctl.h"

/* Each prints its view of c's segment, as a table or (c->json) one JSON
 * object.  0, or -1 with the reason on stderr. */
int ctl_view_status(struct ctl *c);
int ctl_view_workers(struct ctl *c);

#endif
