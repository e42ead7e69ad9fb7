/* commands.h - the subcommands of the beyla binary.  Each takes the
 * subcommand's own argv (argv[0] is the subcommand name) and returns the
 * process exit code. */
#ifndef BEYLA_COMMANDS_H
#define BEYLA_COMMANDS_H

int cmd_record(int argc, char **argv);  /* record/record_main.c */
int cmd_info(int argc, char **argv);    /* cmd/info.c */
int cmd_analyze(int argc, char **argv); /* cmd/analyze.c */
int cmd_report(int argc, char **argv);  /* cmd/report.c */

/* Exit codes shared by info, analyze and report, so scripts can tell failures apart. */
enum bz_exit {
	BZ_EXIT_OK = 0,
	BZ_EXIT_USAGE = 1,       /* bad arguments, I/O error, output exists */
	BZ_EXIT_NOT_CAPTURE = 2, /* input is not a beyla capture */
	BZ_EXIT_TOO_NEW = 3,     /* written by a newer, incompatible format */
	BZ_EXIT_TRUNCATED = 4,   /* cut short: every complete part was used */
	BZ_EXIT_CORRUPT = 5,     /* damaged: every part before the damage was used */
	BZ_EXIT_EXPORT = 6,      /* analyze --otlp/--otlp-file: export failed, the database is written */
};

#endif
