/* quickconn.c - a client that connects in its first instructions and exits:
 * the kind of process a recorder that learns of new processes late misses
 * (tests/e2e/record_selection.sh builds it statically, so no dynamic loader
 * runs before main).
 *
 *   quickconn PORT PATH     GET PATH from 127.0.0.1:PORT, read the reply to
 *                           its end, exit 0 if it was an HTTP response
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[512], buf[4096], head[8];
	size_t hl = 0;
	ssize_t n;
	int fd, len;

	if (argc != 3)
		return 2;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 3;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: quick\r\nConnection: close\r\n\r\n",
		       argv[2]);
	if (len <= 0 || (size_t)len >= sizeof(req) || write(fd, req, (size_t)len) != len)
		return 4;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n && hl < sizeof(head); i++)
			head[hl++] = buf[i];
	close(fd);
	return hl == sizeof(head) && !memcmp(head, "HTTP/1.", 7) ? 0 : 5;
}
