/* redis_cmds.h - what the masker and the parser need to know of Redis's
 * commands: which argument, if any, is a key (kept at record time and
 * shown in db.query.text; every other argument is masked and shown as
 * '?'), and which commands are known by name (the only inline commands a
 * detector accepts). */
#ifndef BEYLA_REDIS_CMDS_H
#define BEYLA_REDIS_CMDS_H

#include <stddef.h>
#include <stdint.h>

enum bz_redis_class {
	BZ_REDIS_KEY = 0,    /* the first argument is a key (the default for an unknown command) */
	BZ_REDIS_NOKEY = 1,  /* no argument is shown: not a key, or a secret (AUTH, HELLO, MIGRATE, EVAL) */
	BZ_REDIS_SUB = 2,    /* a container: the first argument is a subcommand (CONFIG GET, CLIENT SETNAME) */
	BZ_REDIS_DBINDEX = 3, /* SELECT: the argument is the database index, kept (db.namespace) */
};

#define BZ_REDIS_NAME_MAX 24 /* longer names are not in the table */

/* The class of command name[0..n) (any case); *known (may be NULL) says
 * whether it is in the table. */
enum bz_redis_class bz_redis_class_of(const char *name, size_t n, int *known);

/* Is name[0..n) one of the subscribe family's commands?  Returns 0, or
 * the index + 1 of its confirmation word in bz_redis_sub_words. */
int bz_redis_sub_kind(const char *name, size_t n);
/* "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
 * "sunsubscribe" */
extern const char *const bz_redis_sub_words[6];

/* The class of an inline command: an unknown name's arguments are all
 * masked (text that is no command keeps nothing but its first word). */
enum bz_redis_class bz_redis_inline_class(const char *name, size_t n);

/* p[0..n) begins with a whole inline command line (up to its LF) whose
 * first word is a command people type by hand, no HTTP method, and no
 * "HTTP/" in it. */
int bz_redis_inline_command(const uint8_t *p, size_t n);
/* p[0..n) begins with a RESP2 pub/sub message ("message", "pmessage",
 * "smessage"): what a joined subscriber's server sends, not a command. */
int bz_redis_push_start(const uint8_t *p, size_t n);

#endif
