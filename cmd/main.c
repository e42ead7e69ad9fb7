/* main.c - the beyla command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "cmd/commands.h"

static const char usage[] =
	"Usage: beyla COMMAND [OPTION...]\n"
	"Record what a Linux server's requests really cost, with eBPF, and explain it offline.\n"
	"\n"
	"Commands:\n"
	"  record    capture target processes' TCP traffic and process life into a .bz.zst file (root)\n"
	"  info      describe a capture: host, probes, processes, events, drops, completeness\n"
	"  analyze   turn a capture into an SQLite database of request spans (in queue / processing)\n"
	"  report    write one self-contained HTML page about a capture or its database\n"
	"\n"
	"Run 'beyla COMMAND --help' for the options of a command.\n"
	"\n"
	"Example:\n"
	"  sudo beyla record -d 30s --port 8080 -o shop.bz.zst\n"
	"  beyla info shop.bz.zst\n"
	"  beyla analyze shop.bz.zst && sqlite3 shop.db 'select * from route_stats'\n"
	"  beyla report shop.db            # shop.html, to open in a browser\n";

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("beyla %s\n", BEYLA_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "beyla: unknown command '%s' (try 'beyla --help')\n", argv[1]);
	return 1;
}
