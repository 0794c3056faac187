/*
 * faxmodem -- the fax lab's far end.
 *
 * A pseudo-terminal that behaves as a Class 1 fax modem (spandsp's T.31 emulator) -- or, with
 * --class 2 / 2.0, as a Class 2 / 2.0 modem (t32.c) --, whose telephone line is wired, as audio
 * samples inside this process, to a spandsp fax terminal (T.30 + T.4).  The DTE under test opens
 * the pty as if it were /dev/ttyS0.
 *
 *   DTE <-- pty --> T.31 emulator | t32.c <== 8 kHz samples ==> fax terminal (receives / sends a TIFF)
 *
 * The far end answers the DTE's calls (ATD) and receives, and/or calls the DTE (RING) and
 * sends.  At the end of each call it prints one JSON line on stdout with what the far end saw
 * (phase E result), so tests can check both sides.  See usage() and lab/faxmodem/README.md.
 *
 * Built against Debian's libspandsp-dev 0.0.6; the API differs in later spandsp releases.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <tiffio.h>
#include <spandsp.h>

#include "faxmodem.h"

#define SAMPLE_RATE 8000
/* One tick of the line: 20 ms.  The emulator's timers count samples, so it is ticked even when
   the line is idle. */
#define TICK_SAMPLES 160
#define MAX_CORRUPT_PAGES 32
#define OUT_BUF_SIZE (1 << 16)

enum line_state
{
    LINE_IDLE,      /* on hook */
    LINE_DIALLED,   /* the DTE dialled us; we have not answered yet */
    LINE_RINGING,   /* we are calling the DTE and ringing it */
    LINE_ANSWERING, /* the DTE sent ATA; connect on the next tick */
    LINE_CONNECTED, /* the fax terminal is running */
    LINE_CLEARING   /* the fax terminal finished; hang up the line shortly */
};

enum corruption
{
    CORRUPT_NOISE,
    CORRUPT_SILENCE
};

struct options
{
    int fclass;                 /* the DTE side: 1 (spandsp's T.31), 2 or 20 (Class 2.0, t32.c) */
    const char *link_path;
    const char *pty_file;
    const char *receive_path;   /* may contain %d for the call number */
    const char *send_path;
    const char *ident;
    bool busy;
    bool no_answer;
    bool ecm;
    bool v17;
    int corrupt_pages[MAX_CORRUPT_PAGES];
    int n_corrupt_pages;
    int corrupt_start_ms;
    int corrupt_ms;
    double corrupt_dbm0;
    enum corruption corrupt_with;
    double speed;
    double ring_delay_s;        /* wall seconds of DTE silence before we ring */
    int rings;
    int calls;                  /* calls to place when sending */
    int max_calls;              /* exit after this many call records; 0 = never */
    double timeout_s;           /* wall-clock life time */
    int answer_after_ms;        /* line time from ATD to answer/busy */
    int no_answer_after_ms;     /* line time from ATD to NO ANSWER */
    bool verbose;
    int hangup_page;            /* hang up during this page's image carrier (0 = never) */
    int hangup_ms;              /* line ms into that carrier */
};

struct call
{
    int number;
    bool sender;                /* the far end sends (it called the DTE) */
    char file[4096];
    fax_state_t *fax;
    t30_state_t *t30;
    int64_t started;            /* line samples */
    bool phase_e;
    int completion_code;
    t30_stats_t stats;
    char remote_ident[T30_MAX_IDENT_LEN + 1];
    /* Page tracking for fault injection: the page in flight is accepted pages + 1. */
    int pages_accepted;
    int rtn_count;
    int rtp_count;
    int ppr_count;
    bool image_armed;           /* a CFR/MCF/PPR was exchanged: the next carrier is image data */
    int64_t image_started;      /* line samples, or -1 */
    int hitting_page;           /* the page being corrupted on this carrier, or 0 */
    int energy_ticks;           /* consecutive ticks with / without energy on the image path */
    int silent_ticks;
    /* The receiver's own CFR/MCF/PPR has been sent: only then can the image come.  (The frame
       handler runs when the response is queued, while the tail of the sender's TCF or MPS may
       still be on the line.) */
    bool response_sent;
    bool response_heard;
    int response_silent_ticks;
    bool corrupted[MAX_CORRUPT_PAGES + 1];
    int corrupted_list[MAX_CORRUPT_PAGES];
    int n_corrupted;
    int hung_up_in_page;        /* the far end hung up during this page (--hangup-page) */
    bool hang_up_now;           /* set on the tick it does; the line drops in line_events() */
};

static struct options opt;
static struct call call;
static enum line_state line = LINE_IDLE;
static int64_t line_deadline;
static int rings_sent;
static int calls_placed;
static int call_records;
static int64_t line_samples;    /* line time, in samples since start */
static t31_state_t *t31;
static int master_fd = -1;
static int slave_fd = -1;
static char slave_name[256];
static bool dte_seen;
static bool t31_holding;        /* the emulator's transmit buffer is at high tide */
static struct timespec last_dte_byte;
static uint8_t out_buf[OUT_BUF_SIZE];
static size_t out_len;
static awgn_state_t *line_noise;
volatile sig_atomic_t stop_requested;
static char scratch_dir[] = "/tmp/faxmodem-XXXXXX";

static void vlogmsg(const char *fmt, va_list ap)
{
    fprintf(stderr, "faxmodem: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void logmsg(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlogmsg(fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlogmsg(fmt, ap);
    va_end(ap);
    exit(2);
}

static int64_t ms_to_line_samples(int ms)
{
    return (int64_t) ms * SAMPLE_RATE / 1000;
}

static double now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double seconds_since_dte(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec - last_dte_byte.tv_sec) + (ts.tv_nsec - last_dte_byte.tv_nsec) / 1e9;
}

/* ---- JSON output ------------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (  ;  *s;  s++)
    {
        unsigned char c = (unsigned char) *s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void emit_ready(void)
{
    printf("{\"event\": \"ready\", \"pid\": %d, \"pty\": ", (int) getpid());
    json_string(stdout, slave_name);
    printf(", \"link\": ");
    if (opt.link_path)
        json_string(stdout, opt.link_path);
    else
        printf("null");
    printf(", \"speed\": %g, \"class\": \"%s\"}\n", opt.speed,
           opt.fclass == 1 ? "1" : opt.fclass == 2 ? "2" : "2.0");
    fflush(stdout);
}

/* One line per call attempt: outcome is "completed" (phase E reached, whatever its result),
   "busy", "no_answer" (the far end was not answered, or did not answer) or "abandoned" (the DTE
   hung up before the far end answered). */
static void emit_call(const char *outcome)
{
    int i;
    bool completed = strcmp(outcome, "completed") == 0;

    printf("{\"event\": \"call\", \"call\": %d, \"role\": \"%s\", \"outcome\": \"%s\"",
           call.number, call.sender ? "sender" : "receiver", outcome);
    if (completed)
    {
        printf(", \"completion_code\": %d, \"status\": ", call.completion_code);
        json_string(stdout, t30_completion_code_to_str(call.completion_code));
        printf(", \"pages\": %d, \"pages_tx\": %d, \"pages_rx\": %d",
               call.sender ? call.stats.pages_tx : call.stats.pages_rx,
               call.stats.pages_tx, call.stats.pages_rx);
        printf(", \"bit_rate\": %d, \"ecm\": %s", call.stats.bit_rate,
               call.stats.error_correcting_mode ? "true" : "false");
        printf(", \"x_resolution\": %d, \"y_resolution\": %d, \"width\": %d",
               call.stats.x_resolution, call.stats.y_resolution, call.stats.width);
        printf(", \"encoding\": %d, \"bad_rows\": %d, \"longest_bad_row_run\": %d",
               call.stats.encoding, call.stats.bad_rows, call.stats.longest_bad_row_run);
        printf(", \"rtn\": %d, \"rtp\": %d, \"ppr\": %d", call.rtn_count, call.rtp_count,
               call.ppr_count);
        printf(", \"remote_ident\": ");
        json_string(stdout, call.remote_ident);
        printf(", \"line_seconds\": %.2f", (line_samples - call.started) / (double) SAMPLE_RATE);
    }
    printf(", \"local_ident\": ");
    json_string(stdout, opt.ident);
    printf(", \"file\": ");
    if (call.file[0])
        json_string(stdout, call.file);
    else
        printf("null");
    printf(", \"corrupted_pages\": [");
    for (i = 0;  i < call.n_corrupted;  i++)
        printf("%s%d", i ? ", " : "", call.corrupted_list[i]);
    printf("], \"hung_up_in_page\": %d}\n", call.hung_up_in_page);
    fflush(stdout);
    call_records++;
}

/* ---- The DTE side: the pty --------------------------------------------------------------- */

static void flush_out(void)
{
    ssize_t n;

    while (out_len > 0)
    {
        n = write(master_fd, out_buf, out_len);
        if (n < 0)
        {
            if (errno == EAGAIN || errno == EINTR)
                return;
            die("write to pty: %s", strerror(errno));
        }
        memmove(out_buf, out_buf + n, out_len - n);
        out_len -= n;
    }
}

void send_to_dte(const uint8_t *buf, size_t len)
{
    if (out_len + len > sizeof(out_buf))
    {
        /* Nobody is reading the pty (no DTE attached): drop the oldest bytes rather than block
           the line, whose timing must not stall. */
        size_t drop = out_len + len - sizeof(out_buf);

        if (drop > out_len)
            drop = out_len;
        memmove(out_buf, out_buf + drop, out_len - drop);
        out_len -= drop;
        if (len > sizeof(out_buf))
            len = sizeof(out_buf);
    }
    memcpy(out_buf + out_len, buf, len);
    out_len += len;
    flush_out();
}

static int at_tx_handler(at_state_t *s, void *user_data, const uint8_t *buf, size_t len)
{
    send_to_dte(buf, len);
    return len;
}

static void open_pty(void)
{
    struct termios tio;

    if ((master_fd = posix_openpt(O_RDWR | O_NOCTTY)) < 0)
        die("posix_openpt: %s", strerror(errno));
    if (grantpt(master_fd) < 0 || unlockpt(master_fd) < 0)
        die("grantpt/unlockpt: %s", strerror(errno));
    if (ptsname_r(master_fd, slave_name, sizeof(slave_name)) != 0)
        die("ptsname: %s", strerror(errno));
    /* Keep our own slave descriptor open for the whole run: when the last slave descriptor
       closes, reads on the master fail with EIO and the termios settings are lost, which would
       break every DTE that opens and closes the port between calls. */
    if ((slave_fd = open(slave_name, O_RDWR | O_NOCTTY)) < 0)
        die("open %s: %s", slave_name, strerror(errno));
    if (tcgetattr(slave_fd, &tio) < 0)
        die("tcgetattr: %s", strerror(errno));
    /* Raw: no echo of the DTE's commands back into its own input, no CR/LF translation of
       binary fax data. */
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    if (tcsetattr(slave_fd, TCSANOW, &tio) < 0)
        die("tcsetattr: %s", strerror(errno));
    fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
    if (opt.link_path)
    {
        unlink(opt.link_path);
        if (symlink(slave_name, opt.link_path) < 0)
            die("symlink %s: %s", opt.link_path, strerror(errno));
    }
    if (opt.pty_file)
    {
        FILE *f = fopen(opt.pty_file, "w");

        if (f == NULL)
            die("%s: %s", opt.pty_file, strerror(errno));
        fprintf(f, "%s\n", slave_name);
        fclose(f);
    }
}

/* The emulator's transmit buffer is linear, 4096 bytes, and flow control starts at 3072: it
   silently drops what overflows.  So feed it small chunks and, while it holds, leave the DTE's
   bytes in the pty, whose full buffer then blocks the DTE's writes like a deasserted CTS. */
#define DTE_CHUNK 256

static void read_from_dte(void)
{
    char buf[DTE_CHUNK];
    ssize_t n;

    while (!t31_holding)
    {
        n = read(master_fd, buf, sizeof(buf));
        if (n < 0)
        {
            if (errno != EAGAIN && errno != EINTR && errno != EIO)
                die("read from pty: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        dte_seen = true;
        clock_gettime(CLOCK_MONOTONIC, &last_dte_byte);
        if (opt.fclass == 1)
            t31_at_rx(t31, buf, n);
        else
            t32_at_rx((const uint8_t *) buf, n);
    }
}

/* ---- The far end: a spandsp fax terminal ------------------------------------------------- */

static bool page_is_chosen(int page)
{
    int i;

    for (i = 0;  i < opt.n_corrupt_pages;  i++)
    {
        if (opt.corrupt_pages[i] == page)
            return true;
    }
    return false;
}

static void arm_image(void)
{
    call.image_armed = true;
    call.image_started = -1;
    call.energy_ticks = 0;
    call.silent_ticks = 0;
    /* When the far end sends, the DTE's response has arrived whole already. */
    call.response_sent = call.sender;
    call.response_heard = false;
    call.response_silent_ticks = 0;
}

static void mark_corrupted(void);

/* Track T.30 frames to know which page is on the line and when its image carrier starts: after
   CFR, MCF or PPR the next high-speed carrier is (re)sent image data (T.30 5.3.2). */
static void frame_handler(t30_state_t *s, void *user_data, int incoming, const uint8_t msg[], int len)
{
    int fcf;
    bool from_receiver;

    if (len < 3)
        return;
    fcf = msg[2] & 0xFE;
    /* ECM image frames (T.4 Annex A FCD 0x06, RCP 0x86) are the page itself, not a T.30
       command: they must not disarm the watch on the image carrier they travel in. */
    if (fcf == 0x06  ||  fcf == 0x86)
        return;
    /* The far end's own responses are outgoing when it receives, incoming when it sends. */
    from_receiver = call.sender ? incoming : !incoming;
    if (!from_receiver)
    {
        /* The sender's post-page command: its image carrier is over.  When the far end sends,
           this frame can come before CARRIER_OFF_TICKS of silence, so the page it spoiled is
           recorded here too (else it was never marked, and hit again on every resend). */
        mark_corrupted();
        call.image_armed = false;
        call.image_started = -1;
        return;
    }
    switch (fcf)
    {
    case T30_MCF:
        call.pages_accepted++;
        /* fall through */
    case T30_CFR:
        arm_image();
        break;
    case T30_PPR:
        call.ppr_count++;
        arm_image();
        break;
    case T30_RTN:
        call.rtn_count++;
        call.image_armed = false;
        break;
    case T30_RTP:
        /* Page accepted, but retrain before the next one (spandsp: 5-15 % bad rows). */
        call.rtp_count++;
        call.pages_accepted++;
        call.image_armed = false;
        break;
    default:
        call.image_armed = false;
        break;
    }
}

static void phase_e_handler(t30_state_t *s, void *user_data, int completion_code)
{
    const char *ident;

    call.phase_e = true;
    call.completion_code = completion_code;
    t30_get_transfer_statistics(s, &call.stats);
    ident = t30_get_rx_ident(s);
    snprintf(call.remote_ident, sizeof(call.remote_ident), "%s", ident ? ident : "");
}

static void start_fax_terminal(bool sender)
{
    logging_state_t *logging;
    int modems;

    call.fax = fax_init(NULL, sender);
    if (call.fax == NULL)
        die("fax_init failed");
    call.t30 = fax_get_t30_state(call.fax);
    fax_set_transmit_on_idle(call.fax, true);
    t30_set_tx_ident(call.t30, opt.ident);
    modems = T30_SUPPORT_V27TER | T30_SUPPORT_V29;
    if (opt.v17)
        modems |= T30_SUPPORT_V17;
    t30_set_supported_modems(call.t30, modems);
    t30_set_ecm_capability(call.t30, opt.ecm);
    if (opt.ecm)
        t30_set_supported_compressions(call.t30, T30_SUPPORT_T4_1D_COMPRESSION
                                                 | T30_SUPPORT_T4_2D_COMPRESSION
                                                 | T30_SUPPORT_T6_COMPRESSION);
    else
        t30_set_supported_compressions(call.t30, T30_SUPPORT_T4_1D_COMPRESSION
                                                 | T30_SUPPORT_T4_2D_COMPRESSION);
    if (sender)
        t30_set_tx_file(call.t30, call.file, -1, -1);
    else
        t30_set_rx_file(call.t30, call.file, -1);
    t30_set_phase_e_handler(call.t30, phase_e_handler, NULL);
    t30_set_real_time_frame_handler(call.t30, frame_handler, NULL);
    if (opt.verbose)
    {
        logging = fax_get_logging_state(call.fax);
        span_log_set_level(logging, SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG);
        span_log_set_tag(logging, "FAX");
        logging = t30_get_logging_state(call.t30);
        span_log_set_level(logging, SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG);
        span_log_set_tag(logging, "T.30");
    }
}

static void new_call(bool sender)
{
    const char *pattern = sender ? opt.send_path : opt.receive_path;

    memset(&call, 0, sizeof(call));
    call.number = call_records + 1;
    call.sender = sender;
    call.image_started = -1;
    call.started = line_samples;
    if (pattern)
        snprintf(call.file, sizeof(call.file), pattern, call.number);
}

static void end_call(void)
{
    if (call.fax)
    {
        if (!call.phase_e)
            t30_terminate(call.t30);    /* calls phase_e_handler with the reason */
        /* Freeing the terminal closes the received TIFF, so the file is complete before the
           JSON line that names it is printed. */
        fax_free(call.fax);
        call.fax = NULL;
        call.t30 = NULL;
        emit_call("completed");
    }
}

/* ---- Line events -------------------------------------------------------------------------- */

/* The DTE's modem goes off hook and dials.  The far end answers (or not) only once we report a
   call event; defer it so the far end "rings" for a while like a real one. */
void line_dial(const char *num)
{
    if (line == LINE_IDLE || line == LINE_RINGING)
    {
        new_call(false);
        line = LINE_DIALLED;
        line_deadline = line_samples + ms_to_line_samples(
            opt.no_answer ? opt.no_answer_after_ms : opt.answer_after_ms);
        logmsg("DTE dialled %s", num ? num : "");
    }
}

/* The DTE's modem answers our ringing: connect on the next tick. */
bool line_answer(void)
{
    if (line != LINE_RINGING)
        return false;
    line = LINE_ANSWERING;
    return true;
}

void line_hangup(void)
{
    if (line == LINE_CONNECTED || line == LINE_CLEARING)
    {
        logmsg("line on hook");
        end_call();
    }
    else if (line == LINE_DIALLED)
    {
        emit_call("abandoned");
    }
    if (line != LINE_RINGING)
        line = LINE_IDLE;
}

static int modem_control(t31_state_t *s, void *user_data, int op, const char *num)
{
    switch (op)
    {
    case AT_MODEM_CONTROL_CALL:
        line_dial(num);
        break;
    case AT_MODEM_CONTROL_ANSWER:
        line_answer();
        break;
    case AT_MODEM_CONTROL_HANGUP:
    case AT_MODEM_CONTROL_ONHOOK:
        line_hangup();
        break;
    case AT_MODEM_CONTROL_CTS:
        {
            /* The emulator's transmit buffer is at high/low tide.  A pty has no CTS line, so do
               what a fax modem does with software flow control (T.31 8.4.1): XOFF/XON. */
            uint8_t c = (intptr_t) num ? 0x11 : 0x13;

            t31_holding = !(intptr_t) num;
            send_to_dte(&c, 1);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Line events reach the DTE through its modem: spandsp's T.31 (Class 1) or ours (Class 2/2.0). */
static void dte_call_event(int event)
{
    if (opt.fclass == 1)
        t31_call_event(t31, event);
    else
        t32_call_event(event);
}

static void line_events(void)
{
    switch (line)
    {
    case LINE_IDLE:
        if (opt.send_path && calls_placed < opt.calls && dte_seen)
        {
            /* Ring only once a DTE has talked to us and then gone quiet: a RING written before
               the DTE opens the port would sit in the pty and be flushed unseen. */
            if (seconds_since_dte() >= opt.ring_delay_s)
            {
                new_call(true);
                calls_placed++;
                rings_sent = 0;
                line = LINE_RINGING;
                line_deadline = line_samples;
                logmsg("calling the DTE");
            }
        }
        break;
    case LINE_RINGING:
        if (line_samples >= line_deadline)
        {
            if (rings_sent >= opt.rings)
            {
                emit_call("no_answer");
                line = LINE_IDLE;
                break;
            }
            dte_call_event(AT_CALL_EVENT_ALERTING);
            rings_sent++;
            /* One ring cycle: 1 s on, 4 s off (national cadences vary; this is the common one). */
            line_deadline = line_samples + ms_to_line_samples(5000);
        }
        break;
    case LINE_ANSWERING:
        start_fax_terminal(true);
        line = LINE_CONNECTED;
        dte_call_event(AT_CALL_EVENT_ANSWERED);
        logmsg("DTE answered; sending %s", call.file);
        break;
    case LINE_DIALLED:
        if (line_samples >= line_deadline)
        {
            if (opt.busy)
            {
                dte_call_event(AT_CALL_EVENT_BUSY);
                emit_call("busy");
                line = LINE_IDLE;
            }
            else if (opt.no_answer || opt.receive_path == NULL)
            {
                dte_call_event(AT_CALL_EVENT_NO_ANSWER);
                emit_call("no_answer");
                line = LINE_IDLE;
            }
            else
            {
                start_fax_terminal(false);
                line = LINE_CONNECTED;
                dte_call_event(AT_CALL_EVENT_CONNECTED);
                logmsg("answered; receiving to %s", call.file);
            }
        }
        break;
    case LINE_CONNECTED:
        if (call.hang_up_now)
        {
            /* No DCN, no phase E: the line simply goes.  The emulator tells the DTE NO CARRIER
               (at once when it is receiving; when it is sending, after its data). */
            end_call();
            line = LINE_IDLE;
            dte_call_event(AT_CALL_EVENT_HANGUP);
            break;
        }
        if (call.phase_e)
        {
            /* The far end has sent or received DCN and put its handset down.  Give the DTE a
               moment to hang up first, as it normally does; then drop the line under it. */
            line = LINE_CLEARING;
            line_deadline = line_samples + ms_to_line_samples(3000);
        }
        break;
    case LINE_CLEARING:
        if (call.fax)
        {
            /* Close the TIFF and report now; the DTE may take its time to hang up. */
            end_call();
        }
        if (line_samples >= line_deadline)
        {
            line = LINE_IDLE;
            dte_call_event(AT_CALL_EVENT_HANGUP);
        }
        break;
    }
}

/* ---- Audio -------------------------------------------------------------------------------- */

/* Spoil a window of a chosen page's image carrier.  Noise is added to the signal rather than
   replacing it, at a level where the demodulator keeps its carrier but makes bit errors: the
   T.4 decoder resynchronises at each EOL, so the errors show up as many bad rows (RTN, or PPR
   under ECM).  Measured with spandsp 0.0.6's receiver on a 520-row page at 14400 bit/s: noise
   instead of the signal for 3 s gave one long garbage "row" and only 7-35 bad rows, a page its
   5 % rule still calls good; -34 dBm0 over the whole carrier gave 60-85 bad rows (RTP or RTN);
   -30 dBm0 always RTN.  Silence instead reads as carrier loss. */
static void mark_corrupted(void)
{
    int page = call.hitting_page;

    call.hitting_page = 0;
    if (page > 0 && !call.corrupted[page])
    {
        /* Each chosen page is hit once, so that a resent page gets through. */
        call.corrupted[page] = true;
        call.corrupted_list[call.n_corrupted++] = page;
        logmsg("corrupted page %d", page);
    }
}

static bool has_energy(const int16_t amp[], int len)
{
    int i;

    for (i = 0;  i < len;  i++)
    {
        if (amp[i] != 0)
            return true;
    }
    return false;
}

/* Watch the receiving far end's own transmission of its CFR/MCF/PPR to its end. */
static void watch_response(const int16_t amp[], int len)
{
    if (!call.image_armed || call.response_sent)
        return;
    if (has_energy(amp, len))
    {
        call.response_heard = true;
        call.response_silent_ticks = 0;
    }
    else if (call.response_heard && ++call.response_silent_ticks >= 3)
    {
        call.response_sent = true;
    }
}

/* A carrier is energy lasting this long; shorter blips (a modem switching over just after a
   CFR or MCF) are not the image.  And it has ended after this much silence. */
#define CARRIER_ON_TICKS 3      /* 60 ms */
#define CARRIER_OFF_TICKS 5     /* 100 ms */

static void maybe_corrupt(int16_t amp[], int len)
{
    int i;
    int page;
    bool energy;
    int64_t t;

    if (!call.image_armed || !call.response_sent
        || (opt.n_corrupt_pages == 0 && opt.hangup_page == 0))
        return;
    energy = has_energy(amp, len);
    call.energy_ticks = energy ? call.energy_ticks + 1 : 0;
    call.silent_ticks = energy ? 0 : call.silent_ticks + 1;
    if (call.image_started < 0)
    {
        if (call.energy_ticks < CARRIER_ON_TICKS)
            return;
        call.image_started = line_samples - (int64_t) (CARRIER_ON_TICKS - 1) * TICK_SAMPLES;
        if (opt.verbose)
            logmsg("image carrier of page %d starts at %.2f s", call.pages_accepted + 1,
                   call.image_started / (double) SAMPLE_RATE);
    }
    else if (call.silent_ticks >= CARRIER_OFF_TICKS)
    {
        /* The image carrier has ended.  Leave the post-page messages alone. */
        call.image_armed = false;
        mark_corrupted();
        return;
    }
    page = call.pages_accepted + 1;
    if (page == opt.hangup_page && !call.hung_up_in_page
        && line_samples - call.image_started >= ms_to_line_samples(opt.hangup_ms))
    {
        /* The far end puts its handset down in the middle of the page (a person, a power cut,
           a paper jam that ends the call): line_events() drops the line on this tick. */
        call.hung_up_in_page = page;
        call.hang_up_now = true;
        logmsg("hanging up during page %d", page);
        return;
    }
    if (page > MAX_CORRUPT_PAGES || !page_is_chosen(page) || call.corrupted[page])
        return;
    t = line_samples - call.image_started;
    if (t < ms_to_line_samples(opt.corrupt_start_ms))
        return;
    if (opt.corrupt_ms > 0 && t >= ms_to_line_samples(opt.corrupt_start_ms + opt.corrupt_ms))
    {
        mark_corrupted();
        return;
    }
    call.hitting_page = page;
    for (i = 0;  i < len;  i++)
        amp[i] = (opt.corrupt_with == CORRUPT_NOISE)  ?  saturate(amp[i] + awgn(line_noise))  :  0;
}

static void tick(void)
{
    int16_t to_dte[TICK_SAMPLES];
    int16_t from_dte[TICK_SAMPLES];
    int n;

    memset(to_dte, 0, sizeof(to_dte));
    if (call.fax)
    {
        n = fax_tx(call.fax, to_dte, TICK_SAMPLES);
        if (n < TICK_SAMPLES)
            memset(to_dte + n, 0, sizeof(int16_t) * (TICK_SAMPLES - n));
        if (call.sender)
            maybe_corrupt(to_dte, TICK_SAMPLES);
        else
            watch_response(to_dte, TICK_SAMPLES);
    }
    if (opt.fclass == 1)
    {
        t31_rx(t31, to_dte, TICK_SAMPLES);
        n = t31_tx(t31, from_dte, TICK_SAMPLES);
    }
    else
    {
        n = t32_line(to_dte, from_dte, TICK_SAMPLES);
    }
    if (n < TICK_SAMPLES)
        memset(from_dte + n, 0, sizeof(int16_t) * (TICK_SAMPLES - n));
    if (call.fax)
    {
        if (!call.sender)
            maybe_corrupt(from_dte, TICK_SAMPLES);
        fax_rx(call.fax, from_dte, TICK_SAMPLES);
    }
    line_samples += TICK_SAMPLES;
    line_events();
    if (opt.fclass != 1)
        t32_after_tick();
}

/* A Class 2 modem waits for its DTE at points where spandsp's T.30 engine needs an answer now
   (the page to send once DIS has arrived, the next page after MCF, the DTE's +FDR before the
   response to a received page).  The whole line -- both T.30 engines and their timers -- is
   frozen meanwhile: nothing is ticked, only the pty is served.  Returns false if the DTE stayed
   silent for DTE_WAIT_S wall seconds or we are told to stop. */
#define DTE_WAIT_S 60.0

bool serve_dte_until(bool (*done)(void))
{
    struct pollfd pfd;
    double quiet_since = now_wall();

    pfd.fd = master_fd;
    while (!done())
    {
        if (stop_requested || now_wall() - quiet_since > DTE_WAIT_S)
            return false;
        pfd.events = POLLIN | (out_len ? POLLOUT : 0);
        if (poll(&pfd, 1, 20) > 0)
        {
            if (pfd.revents & POLLOUT)
                flush_out();
            if (pfd.revents & POLLIN)
            {
                read_from_dte();
                quiet_since = now_wall();
            }
        }
    }
    flush_out();
    return true;
}

/* ---- Main --------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: faxmodem [options]\n"
        "  A pty acting as a fax modem whose line reaches a spandsp fax terminal.\n"
        "  --class 1|2|2.0        the modem's personality: Class 1 (spandsp's T.31, default),\n"
        "                         Class 2 or Class 2.0 (T.32, spandsp's T.30 inside the modem)\n"
        "  --link PATH            symlink PATH to the pty (e.g. /tmp/lab/ttyFAX)\n"
        "  --pty-file PATH        write the pty's path to PATH\n"
        "  --receive PATH         answer the DTE's calls and receive to TIFF PATH (%%d = call no.)\n"
        "  --send TIFF            call the DTE (RING) and send TIFF\n"
        "  --calls N              calls to place with --send (default 1)\n"
        "  --ident ID             local station id (default \"+1 555 0100\")\n"
        "  --busy                 answer the DTE's calls with BUSY\n"
        "  --no-answer            never answer the DTE's calls (NO ANSWER)\n"
        "  --ecm / --no-ecm       offer ECM (default on)\n"
        "  --v17 / --no-v17       offer V.17 (default on; off leaves V.29/V.27ter)\n"
        "  --corrupt PAGES        comma list of pages whose image carrier is corrupted once\n"
        "  --corrupt-start MS     line ms after the image carrier starts (default 500)\n"
        "  --corrupt-ms MS        window length in line ms (default 0: to the carrier's end)\n"
        "  --corrupt-with KIND    noise (default: added to the signal) or silence\n"
        "  --corrupt-level DBM0   noise level (default -30 dBm0; the modems send at about -15)\n"
        "  --speed X              pacing: X times real time (default 3; 1 = real time)\n"
        "  --ring-delay S         wall seconds of DTE quiet before ringing (default 1)\n"
        "  --rings N              rings before giving up (default 8)\n"
        "  --answer-after MS      line ms from ATD to answer or BUSY (default 2000)\n"
        "  --no-answer-after MS   line ms from ATD to NO ANSWER (default 20000)\n"
        "  --max-calls N          exit after N call records (default 0 = never)\n"
        "  --timeout S            exit after S wall seconds (default 900)\n"
        "  --hangup-page N        hang up (no DCN) during page N's image carrier\n"
        "  --hangup-ms MS         ... this many line ms into it (default 1000)\n"
        "  --verbose              spandsp protocol log on stderr\n"
        "Prints JSON lines on stdout: {\"event\": \"ready\", ...} then one {\"event\": \"call\", ...}\n"
        "per call.\n");
}

static void parse_pages(const char *s)
{
    char *copy = strdup(s);
    char *tok;
    char *save;

    for (tok = strtok_r(copy, ",", &save);  tok;  tok = strtok_r(NULL, ",", &save))
    {
        int page = atoi(tok);

        if (page < 1 || page > MAX_CORRUPT_PAGES || opt.n_corrupt_pages >= MAX_CORRUPT_PAGES)
            die("--corrupt: bad page '%s' (1..%d)", tok, MAX_CORRUPT_PAGES);
        opt.corrupt_pages[opt.n_corrupt_pages++] = page;
    }
    free(copy);
}

static void parse_args(int argc, char *argv[])
{
    enum
    {
        O_LINK = 256, O_PTY_FILE, O_RECEIVE, O_SEND, O_CALLS, O_IDENT, O_BUSY, O_NO_ANSWER,
        O_ECM, O_NO_ECM, O_V17, O_NO_V17, O_CORRUPT, O_CORRUPT_START, O_CORRUPT_MS,
        O_CORRUPT_WITH, O_CORRUPT_LEVEL, O_SPEED, O_RING_DELAY, O_RINGS, O_ANSWER_AFTER, O_NO_ANSWER_AFTER,
        O_MAX_CALLS, O_TIMEOUT, O_VERBOSE, O_HELP, O_HANGUP_PAGE, O_HANGUP_MS, O_CLASS
    };
    static const struct option longopts[] =
    {
        {"link", required_argument, NULL, O_LINK},
        {"pty-file", required_argument, NULL, O_PTY_FILE},
        {"receive", required_argument, NULL, O_RECEIVE},
        {"send", required_argument, NULL, O_SEND},
        {"calls", required_argument, NULL, O_CALLS},
        {"ident", required_argument, NULL, O_IDENT},
        {"busy", no_argument, NULL, O_BUSY},
        {"no-answer", no_argument, NULL, O_NO_ANSWER},
        {"ecm", no_argument, NULL, O_ECM},
        {"no-ecm", no_argument, NULL, O_NO_ECM},
        {"v17", no_argument, NULL, O_V17},
        {"no-v17", no_argument, NULL, O_NO_V17},
        {"corrupt", required_argument, NULL, O_CORRUPT},
        {"corrupt-start", required_argument, NULL, O_CORRUPT_START},
        {"corrupt-ms", required_argument, NULL, O_CORRUPT_MS},
        {"corrupt-with", required_argument, NULL, O_CORRUPT_WITH},
        {"corrupt-level", required_argument, NULL, O_CORRUPT_LEVEL},
        {"speed", required_argument, NULL, O_SPEED},
        {"ring-delay", required_argument, NULL, O_RING_DELAY},
        {"rings", required_argument, NULL, O_RINGS},
        {"answer-after", required_argument, NULL, O_ANSWER_AFTER},
        {"no-answer-after", required_argument, NULL, O_NO_ANSWER_AFTER},
        {"max-calls", required_argument, NULL, O_MAX_CALLS},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"hangup-page", required_argument, NULL, O_HANGUP_PAGE},
        {"hangup-ms", required_argument, NULL, O_HANGUP_MS},
        {"class", required_argument, NULL, O_CLASS},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}
    };
    int c;

    opt.fclass = 1;
    opt.ident = "+1 555 0100";
    opt.ecm = true;
    opt.v17 = true;
    opt.corrupt_start_ms = 500;
    opt.corrupt_ms = 0;
    opt.corrupt_with = CORRUPT_NOISE;
    opt.hangup_ms = 1000;
    opt.corrupt_dbm0 = -30.0;
    opt.speed = 3.0;
    opt.ring_delay_s = 1.0;
    opt.rings = 8;
    opt.calls = 1;
    opt.timeout_s = 900.0;
    opt.answer_after_ms = 2000;
    opt.no_answer_after_ms = 20000;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
    {
        switch (c)
        {
        case O_LINK: opt.link_path = optarg; break;
        case O_PTY_FILE: opt.pty_file = optarg; break;
        case O_RECEIVE: opt.receive_path = optarg; break;
        case O_SEND: opt.send_path = optarg; break;
        case O_CALLS: opt.calls = atoi(optarg); break;
        case O_IDENT: opt.ident = optarg; break;
        case O_BUSY: opt.busy = true; break;
        case O_NO_ANSWER: opt.no_answer = true; break;
        case O_ECM: opt.ecm = true; break;
        case O_NO_ECM: opt.ecm = false; break;
        case O_V17: opt.v17 = true; break;
        case O_NO_V17: opt.v17 = false; break;
        case O_CORRUPT: parse_pages(optarg); break;
        case O_CORRUPT_START: opt.corrupt_start_ms = atoi(optarg); break;
        case O_CORRUPT_MS: opt.corrupt_ms = atoi(optarg); break;
        case O_CORRUPT_WITH:
            if (strcmp(optarg, "noise") == 0)
                opt.corrupt_with = CORRUPT_NOISE;
            else if (strcmp(optarg, "silence") == 0)
                opt.corrupt_with = CORRUPT_SILENCE;
            else
                die("--corrupt-with: noise or silence, not '%s'", optarg);
            break;
        case O_CORRUPT_LEVEL: opt.corrupt_dbm0 = atof(optarg); break;
        case O_SPEED: opt.speed = atof(optarg); break;
        case O_RING_DELAY: opt.ring_delay_s = atof(optarg); break;
        case O_RINGS: opt.rings = atoi(optarg); break;
        case O_ANSWER_AFTER: opt.answer_after_ms = atoi(optarg); break;
        case O_NO_ANSWER_AFTER: opt.no_answer_after_ms = atoi(optarg); break;
        case O_MAX_CALLS: opt.max_calls = atoi(optarg); break;
        case O_TIMEOUT: opt.timeout_s = atof(optarg); break;
        case O_VERBOSE: opt.verbose = true; break;
        case O_HANGUP_PAGE: opt.hangup_page = atoi(optarg); break;
        case O_HANGUP_MS: opt.hangup_ms = atoi(optarg); break;
        case O_CLASS:
            if (strcmp(optarg, "1") == 0)
                opt.fclass = 1;
            else if (strcmp(optarg, "2") == 0)
                opt.fclass = 2;
            else if (strcmp(optarg, "2.0") == 0)
                opt.fclass = 20;
            else
                die("--class: 1, 2 or 2.0, not '%s'", optarg);
            break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc)
    {
        usage(stderr);
        exit(2);
    }
    if (opt.speed < 0.1 || opt.speed > 20.0)
        die("--speed must be between 0.1 and 20");
    if (opt.send_path && access(opt.send_path, R_OK) != 0)
        die("--send %s: %s", opt.send_path, strerror(errno));
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    logging_state_t *logging;
    double start;
    double next;
    double period;
    double wait;
    struct timespec ts;
    struct pollfd pfd;
    int exit_code = 0;

    parse_args(argc, argv);
    /* The lab must never outlive the test or demo that started it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Keep libtiff's warnings about spandsp's private tags out of the way. */
    TIFFSetWarningHandler(NULL);

    open_pty();
    line_noise = awgn_init_dbm0(NULL, 1234567, (float) opt.corrupt_dbm0);
    if (opt.fclass == 1)
    {
        if ((t31 = t31_init(NULL, at_tx_handler, NULL, modem_control, NULL, NULL, NULL)) == NULL)
            die("t31_init failed");
        if (opt.verbose)
        {
            logging = t31_get_logging_state(t31);
            span_log_set_level(logging, SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG);
            span_log_set_tag(logging, "T.31");
        }
    }
    else
    {
        /* The Class 2 modem keeps the DTE's pages and its own scratch TIFFs here. */
        if (mkdtemp(scratch_dir) == NULL)
            die("mkdtemp: %s", strerror(errno));
        t32_init(opt.fclass, scratch_dir, opt.verbose, opt.speed);
    }
    emit_ready();

    period = TICK_SAMPLES / (double) SAMPLE_RATE / opt.speed;
    start = now_wall();
    next = start;
    pfd.fd = master_fd;
    while (!stop_requested)
    {
        tick();
        /* Linger until the DTE is quiet, so its closing commands (ATH, ATZ) are answered. */
        if (opt.max_calls > 0 && call_records >= opt.max_calls && line == LINE_IDLE
            && seconds_since_dte() >= 1.0)
            break;
        next += period;
        for (;;)
        {
            wait = next - now_wall();
            if (wait <= 0 || stop_requested)
                break;
            ts.tv_sec = (time_t) wait;
            ts.tv_nsec = (long) ((wait - ts.tv_sec) * 1e9);
            pfd.events = (t31_holding ? 0 : POLLIN) | (out_len ? POLLOUT : 0);
            if (ppoll(&pfd, 1, &ts, NULL) > 0)
            {
                if (pfd.revents & POLLOUT)
                    flush_out();
                if (pfd.revents & POLLIN)
                    read_from_dte();
            }
        }
        /* Process DTE bytes that arrived during the last tick before the next one. */
        read_from_dte();
        flush_out();
        if (now_wall() - next > 1.0)
            next = now_wall();  /* we were stopped or starved: do not try to catch up */
        if (now_wall() - start > opt.timeout_s)
        {
            logmsg("timeout after %.0f s", opt.timeout_s);
            exit_code = 3;
            break;
        }
    }
    end_call();
    if (opt.link_path)
        unlink(opt.link_path);
    if (opt.fclass == 1)
        t31_free(t31);
    else
        t32_free();
    close(master_fd);
    close(slave_fd);
    return exit_code;
}
