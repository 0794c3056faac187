/*
 * faxmodem.h -- what the line and pty side (faxmodem.c) and the Class 2 / 2.0 modem (t32.c)
 * share.  The Class 1 modem is spandsp's own T.31 emulator and needs none of this.
 */
#ifndef FAXMODEM_H
#define FAXMODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* faxmodem.c: logging, the pty, the telephone line. */
void logmsg(const char *fmt, ...);
void die(const char *fmt, ...);
void send_to_dte(const uint8_t *buf, size_t len);
bool serve_dte_until(bool (*done)(void));
void line_dial(const char *num);
bool line_answer(void);
void line_hangup(void);

/* t32.c: a Class 2 (fclass 2) or Class 2.0 (fclass 20) modem on the pty. */
void t32_init(int fclass, const char *scratch_dir, bool verbose, double speed);
void t32_free(void);
void t32_at_rx(const uint8_t *buf, size_t len);
void t32_call_event(int event);
int t32_line(const int16_t rx[], int16_t tx[], int len);
void t32_after_tick(void);

#endif
