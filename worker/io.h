/*
 * io.h - what a read or a write came to, for the socket (conn.c) and the
 * body's temp file (body.c).
 */
#ifndef FCGATE_IO_H
#define FCGATE_IO_H

enum io_result {
	IO_DONE,  /* bytes moved (all, for a write) */
	IO_AGAIN, /* the descriptor would block */
	IO_EOF,	  /* the peer closed; done with */
	IO_ERROR  /* failed (errno), or out of memory */
};

#endif
