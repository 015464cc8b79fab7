/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats-client ADDRESS ID INTERVAL_USEC LINES [HOLD_SECS]: OpenContainerStats,
 * then (after HOLD_SECS without reading) copies LINES lines of the stream to
 * stdout (0 = until EOF) and closes it. "ERROR <name>: <message>" and exit 1
 * when the call fails. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char *line = NULL;
        size_t cap = 0;
        long lines, n = 0;
        int fd, r;
        FILE *f;

        if (argc < 5) {
                fprintf(stderr, "usage: stats-client ADDRESS ID INTERVAL_USEC LINES [HOLD_SECS]\n");
                return 2;
        }
        lines = atol(argv[4]);
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
            (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0) {
                fprintf(stderr, "cannot connect: %s\n", strerror(-r));
                return 2;
        }
        r = sd_bus_call_method(bus, "com.zlayer.Runtime1", "/com/zlayer/Runtime1", "com.zlayer.Runtime1.Manager",
                               "OpenContainerStats", &error, &reply, "st", argv[2], strtoull(argv[3], NULL, 10));
        if (r < 0) {
                printf("ERROR %s: %s\n", error.name, error.message);
                return 1;
        }
        if ((r = sd_bus_message_read(reply, "h", &fd)) < 0 || (fd = dup(fd)) < 0) {
                fprintf(stderr, "bad reply\n");
                return 2;
        }
        sd_bus_message_unref(reply);
        if (argc > 5)
                sleep((unsigned) atoi(argv[5]));
        f = fdopen(fd, "r");
        while ((lines == 0 || n < lines) && getline(&line, &cap, f) > 0) {
                fputs(line, stdout);
                fflush(stdout);
                n++;
        }
        fclose(f);
        free(line);
        sd_bus_flush_close_unref(bus);
        return 0;
}
