/*
 * t32.c -- the lab modem's Class 2 and Class 2.0 personalities (ITU-T T.32 and its Class 2
 * draft predecessor, EIA/TIA SP-2388): the modem runs T.30 itself and the DTE sees only page
 * data and reports.
 *
 *   DTE <-- pty: T.32 commands, page data --> this file <-> spandsp T.30 + modems ("the modem's
 *   own fax engine") <== 8 kHz samples ==> the far end (faxmodem.c)
 *
 * spandsp 0.0.6 has no Class 2 DCE, so the modem's T.30 engine is a spandsp fax terminal whose
 * page images come from, and go to, the DTE instead of a TIFF: page data from the DTE is decoded
 * (in the coding the modem announced with +FCS) into a scratch TIFF the engine sends; a page the
 * engine receives is re-coded for the DTE.  Where spandsp wants an answer at once (the first page
 * when DIS arrives, the next page after MCF, the DTE's +FDR before it answers a received page),
 * the line is frozen while the DTE is served (serve_dte_until in faxmodem.c): both engines and
 * their timers stand still, which a real modem achieves with its buffers and T.30's own pauses.
 *
 * Known simplifications, each visible to a DTE: after RTN to the last page (EOP) spandsp ends
 * the call, so that page can only be resent on a new call; the modem's engine does not offer ECM
 * unless the DTE's +FCC/+FDCC asks for it; under ECM a received page is answered by the engine
 * (MCF once its frames are whole), whatever the DTE's +FPS.
 *
 * Built against Debian's libspandsp-dev 0.0.6 with its internal structures exposed: the T.4
 * row handlers and the last page to send are set on the engine's own T.4 context, and the
 * DTE's answer to a received page (+FPS=1/2/3: MCF/RTN/RTP) is given to the engine through the
 * page's bad-row count, which is all spandsp's copy-quality check reads (see dte_answers_page).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tiffio.h>
#include <spandsp.h>
#include <spandsp/expose.h>

#include "faxmodem.h"

#define DLE 0x10
#define ETX 0x03
#define SUB 0x1A
#define DC1 0x11
#define DC2 0x12
#define MAX_PAGE_BYTES (8 << 20)

/* T.32's session parameters, in +FCC/+FIS/+FCS order. */
enum { P_VR, P_BR, P_WD, P_LN, P_DF, P_EC, P_BF, P_ST, N_PARAMS };

/* What the DTE is waiting for: the command whose final result code is still owed. */
enum pending
{
    PENDING_NONE,
    PENDING_DIAL,       /* ATD: OK after phase B (DIS received), or BUSY / NO ANSWER ... */
    PENDING_ANSWER,     /* ATA: OK after phase B (DCS received, CFR sent) */
    PENDING_FET,        /* AT+FET: +FPS and OK once the far end has answered the page */
    PENDING_FDR         /* AT+FDR: CONNECT with the next page, or +FHS and OK at the end */
};

/* The command names that differ between Class 2 (SP-2388) and Class 2.0 (T.32). */
struct names
{
    const char *caps;       /* +FCC / +FDCC */
    const char *session;    /* +FIS / +FDIS, also the report of the far end's DIS */
    const char *local_id;   /* +FLI / +FLID */
    const char *connected;  /* +FCO / +FCON */
    const char *csi;        /* +FCI / +FCSI */
    const char *tsi;        /* +FTI / +FTSI */
    const char *dcs;        /* +FCS / +FDCS */
    const char *page;       /* +FPS / +FPTS: page status, reported and set */
    const char *hangup;     /* +FHS / +FHNG */
    const char *bit_order;  /* +FBO / +FBOR */
    const char *classes;    /* AT+FCLASS=? */
    const char *model;
};

static const struct names class2_names =
{
    "+FDCC", "+FDIS", "+FLID", "+FCON", "+FCSI", "+FTSI", "+FDCS", "+FPTS", "+FHNG", "+FBOR",
    "0,2", "faxmodem lab Class 2"
};
static const struct names class20_names =
{
    "+FCC", "+FIS", "+FLI", "+FCO", "+FCI", "+FTI", "+FCS", "+FPS", "+FHS", "+FBO",
    "0,2.0", "faxmodem lab Class 2.0"
};

struct page_buf
{
    uint8_t *data;
    size_t len;
    size_t cap;
};

static struct
{
    int personality;            /* 2 or 20 */
    const struct names *n;
    char scratch[256];
    bool verbose;
    double speed;
    /* The DTE's settings. */
    int fclass;                 /* 0 (data) until AT+FCLASS=2 / 2.0 */
    char local_id[T30_MAX_IDENT_LEN + 1];
    int caps[N_PARAMS];
    int session[N_PARAMS];
    int bit_order;
    bool echo;
    /* The pty. */
    char cmd[512];
    size_t cmd_len;
    bool page_mode;             /* receiving page data after CONNECT (AT+FDT) */
    bool page_dle;
    bool page_complete;         /* DLE ETX seen */
    struct page_buf page;
    bool dc2_seen;
    /* The call. */
    fax_state_t *fax;
    t30_state_t *t30;
    bool caller;
    enum pending pending;
    bool fdt;                   /* AT+FDT given: the DTE is about to send a page */
    int fet;                    /* the DTE's post-page message for the page in hand, or -1 */
    double etx_ok_due;          /* when to answer DLE ETX (wall seconds), or 0 */
    bool fet_by_dle;
    bool awaiting_page;         /* the engine waits for the DTE's next page: +FDT is valid */            /* ... given as DLE , ; . (Class 2.0): OK / ERROR is the verdict */
    bool answered_phase_b;
    int remote_params[N_PARAMS];
    int line_params[N_PARAMS];
    int pages_from_dte;
    char next_page_file[300];
    TIFF *row_source;
    int row_source_row;
    bool rows_installed;
    bool new_document;          /* after EOM: the next page starts a document (+FCS again) */
    uint8_t *rx_rows;           /* a received page, in spandsp's row format */
    size_t rx_rows_len;
    size_t rx_rows_cap;
    int rx_row_bytes;
    int rx_answer;              /* receiving: +FPS for the page in hand, 1 MCF 2 RTN 3 RTP */
    bool rx_handed;             /* ... that page has gone to the DTE (non-ECM) */
    bool finished;              /* the engine reached phase E: free it after this tick */
    bool abort;                 /* the DTE hung up (ATH, +FK) or went silent in a wait */
} m;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...)
{
    char text[512];
    char line[520];
    va_list ap;
    int n;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    n = snprintf(line, sizeof(line), "\r\n%s\r\n", text);
    send_to_dte((const uint8_t *) line, (size_t) n);
    if (m.verbose)
        logmsg("DTE <- %s", text);
}

/* ---- Session parameters --------------------------------------------------------------- */

static int test_bit(const uint8_t *fif, int len, int bit)
{
    int byte = (bit - 1) / 8;

    return byte < len && (fif[byte] & (1 << ((bit - 1) % 8)));
}

/* A DIS/DTC or DCS frame (address, control, FCF, FIF...) as T.32 parameters (T.30 Table 2). */
static void params_from_frame(const uint8_t *msg, int len, bool dcs, int params[N_PARAMS])
{
    const uint8_t *fif = msg + 3;
    int n = len - 3;
    int rate = (test_bit(fif, n, 11) ? 1 : 0) | (test_bit(fif, n, 12) ? 2 : 0)
               | (test_bit(fif, n, 13) ? 4 : 0) | (test_bit(fif, n, 14) ? 8 : 0);

    memset(params, 0, sizeof(int) * N_PARAMS);
    params[P_VR] = test_bit(fif, n, 15) ? 1 : 0;
    if (dcs)
    {
        /* DCS names one modem and rate. */
        static const int br[16] = {0, 0, 1, 0, 3, 0, 2, 0, 5, 0, 4, 0, 3, 0, 2, 0};

        params[P_BR] = br[rate];
    }
    else
    {
        /* DIS names the modems it has: V.17 (bit 14 with 11 and 12) reaches 14400. */
        params[P_BR] = (rate & 8) ? 5 : (rate & 1) ? 3 : (rate & 2) ? 1 : 0;
    }
    params[P_WD] = test_bit(fif, n, 17) ? 2 : test_bit(fif, n, 18) ? 1 : 0;
    params[P_LN] = test_bit(fif, n, 20) ? 1 : test_bit(fif, n, 19) ? 2 : 0;
    params[P_DF] = test_bit(fif, n, 31) ? 3 : test_bit(fif, n, 16) ? 1 : 0;
    params[P_EC] = test_bit(fif, n, 27) ? 1 : 0;
    params[P_ST] = (test_bit(fif, n, 21) ? 1 : 0) | (test_bit(fif, n, 22) ? 2 : 0)
                   | (test_bit(fif, n, 23) ? 4 : 0);
}

/* "+FCS:1,5,0,2,0,0,0,0"; a parameter read (AT+FCC?) answers with the values alone. */
static void report_params(const char *name, const int p[N_PARAMS])
{
    say("%s%s%d,%d,%d,%d,%d,%d,%d,%d", name, name[0] ? ":" : "", p[P_VR], p[P_BR], p[P_WD],
        p[P_LN], p[P_DF], p[P_EC], p[P_BF], p[P_ST]);
}

/* "1,5,0,2,0,0,0,0" or ",5": empty fields keep their value. */
static bool parse_params(const char *s, int p[N_PARAMS])
{
    int i;
    int tmp[N_PARAMS];

    memcpy(tmp, p, sizeof(tmp));
    for (i = 0;  i < N_PARAMS && *s;  i++)
    {
        if (isdigit((unsigned char) *s))
            tmp[i] = (int) strtol(s, (char **) &s, 16);
        if (*s == ',')
            s++;
        else if (*s)
            return false;
    }
    if (*s)
        return false;
    memcpy(p, tmp, sizeof(tmp));
    return true;
}

/* ---- T.30 completion codes as T.32 hang-up status ------------------------------------- */

/* T.32 Table 23's classes: 0 normal, 1x call placement, 2x sending phase B, 4x/5x sending
   phase C/D, 7x receiving phase B, 9x/10x receiving phase C/D.  spandsp's reasons, coarsely. */
static int hangup_status(int code)
{
    switch (code)
    {
    case T30_ERR_OK:
        return 0x00;
    case T30_ERR_CALLDROPPED:
        return 0x03;    /* no loop current: the line went */
    case T30_ERR_T0_EXPIRED:
    case T30_ERR_T1_EXPIRED:
        return 0x11;    /* no answer (T.30 T1) */
    case T30_ERR_CANNOT_TRAIN:
        return 0x27;    /* failure to train */
    case T30_ERR_INCOMPATIBLE:
        return 0x21;    /* remote cannot receive or send */
    case T30_ERR_RX_T2EXPMPS:
    case T30_ERR_RX_T2EXPD:
    case T30_ERR_RX_T2EXP:
        return 0x73;    /* T2 timeout, expected page not received */
    case T30_ERR_RX_DCNDATA:
    case T30_ERR_RX_DCNFAX:
    case T30_ERR_RX_DCNPHD:
    case T30_ERR_RX_DCNRRD:
    case T30_ERR_RX_DCNNORTN:
        return 0x70;    /* unspecified receiving phase B error (unexpected DCN) */
    case T30_ERR_TX_T5EXP:
    case T30_ERR_TX_PHBDEAD:
    case T30_ERR_TX_PHDDEAD:
        return 0x50;    /* unspecified transmitting phase D error */
    default:
        return m.caller ? 0x20 : 0x70;
    }
}

/* ---- Pages from the DTE ---------------------------------------------------------------- */

static void page_append(uint8_t byte)
{
    if (m.page.len >= MAX_PAGE_BYTES)
        return;     /* a runaway DTE; the page decodes short */
    if (m.page.len == m.page.cap)
    {
        m.page.cap = m.page.cap ? m.page.cap * 2 : 65536;
        if ((m.page.data = realloc(m.page.data, m.page.cap)) == NULL)
            die("out of memory");
    }
    m.page.data[m.page.len++] = byte;
}

/* Phase C data: DLE DLE is a DLE, DLE SUB two DLEs; DLE ETX ends the page (AT+FET follows).
   Class 2.0 also lets the DTE end the page and give its post-page message at once: DLE then
   ',' (MPS), ';' (EOM) or '.' (EOP) -- efax does -- and the final result tells the page's fate. */
static void page_rx(uint8_t byte)
{
    const char *post_page = ",;.";

    if (m.page_dle)
    {
        m.page_dle = false;
        if (byte == ETX)
        {
            /* A modem answers once its buffer has drained onto the line; the line here is
               frozen until the DTE's +FET, so wait as long as the page would take (efax 0.9
               divides by the seconds a page took, and dies on an instant OK). */
            static const int bit_rates[6] = {2400, 4800, 7200, 9600, 12000, 14400};

            m.page_mode = false;
            m.page_complete = true;
            m.fet_by_dle = false;
            m.etx_ok_due = now_s() + m.page.len * 8.0 / bit_rates[m.line_params[P_BR] % 6]
                                     / m.speed;
        }
        else if (m.personality == 20 && byte && strchr(post_page, byte))
        {
            m.page_mode = false;
            m.page_complete = true;
            m.fet_by_dle = true;
            m.fet = (int) (strchr(post_page, byte) - post_page);
            m.pending = PENDING_FET;
        }
        else if (byte == DLE)
        {
            page_append(DLE);
        }
        else if (byte == SUB)
        {
            page_append(DLE);
            page_append(DLE);
        }
        return;
    }
    if (byte == DLE)
        m.page_dle = true;
    else
        page_append(byte);
}

static int t4_coding(int df)
{
    return df == 3 ? T4_COMPRESSION_ITU_T6 : df == 1 ? T4_COMPRESSION_ITU_T4_2D
                                                     : T4_COMPRESSION_ITU_T4_1D;
}

/* Decode the DTE's page (in the coding announced with +FCS) into a one-page TIFF. */
static void store_dte_page(const char *path)
{
    t4_rx_state_t *t4;
    size_t i;
    t4_stats_t stats;

    if (m.bit_order & 1)
    {
        /* +FBO bit 0: phase C data reversed, i.e. first bit on the line in bit 7. */
        for (i = 0;  i < m.page.len;  i++)
            m.page.data[i] = bit_reverse8(m.page.data[i]);
    }
    if ((t4 = t4_rx_init(NULL, path, T4_COMPRESSION_ITU_T6)) == NULL)
        die("t4_rx_init %s failed", path);
    t4_rx_set_rx_encoding(t4, t4_coding(m.line_params[P_DF]));
    t4_rx_set_image_width(t4, 1728);
    t4_rx_set_x_resolution(t4, T4_X_RESOLUTION_R8);
    t4_rx_set_y_resolution(t4, m.line_params[P_VR] ? T4_Y_RESOLUTION_FINE
                                                   : T4_Y_RESOLUTION_STANDARD);
    t4_rx_start_page(t4);
    t4_rx_put_chunk(t4, m.page.data, (int) m.page.len);
    t4_rx_get_transfer_statistics(t4, &stats);
    t4_rx_end_page(t4);
    t4_rx_free(t4);
    logmsg("page %d from the DTE: %zu bytes, %d rows, %d bad", m.pages_from_dte, m.page.len,
           stats.length, stats.bad_rows);
    m.page.len = 0;
}

/* The engine's T.4 context pulls rows of the second and later pages from here. */
static int rows_from_dte(void *user_data, uint8_t buf[], size_t len)
{
    size_t i;
    uint16_t fill_order = FILLORDER_MSB2LSB;
    uint16_t photometric = PHOTOMETRIC_MINISWHITE;
    uint32_t length = 0;

    if (m.row_source == NULL)
    {
        if ((m.row_source = TIFFOpen(m.next_page_file, "r")) == NULL)
            return -1;
        m.row_source_row = 0;
    }
    TIFFGetField(m.row_source, TIFFTAG_IMAGELENGTH, &length);
    TIFFGetField(m.row_source, TIFFTAG_FILLORDER, &fill_order);
    TIFFGetField(m.row_source, TIFFTAG_PHOTOMETRIC, &photometric);
    if ((uint32_t) m.row_source_row >= length
        || TIFFReadScanline(m.row_source, buf, m.row_source_row, 0) <= 0)
    {
        TIFFClose(m.row_source);
        m.row_source = NULL;
        return 0;
    }
    m.row_source_row++;
    /* spandsp's rows run left to right from bit 0, 1 = black (as its own TIFF reader makes). */
    for (i = 0;  i < len;  i++)
    {
        if (photometric != PHOTOMETRIC_MINISWHITE)
            buf[i] = ~buf[i];
        if (fill_order != FILLORDER_LSB2MSB)
            buf[i] = bit_reverse8(buf[i]);
    }
    return (int) len;
}

static bool page_and_fet_in(void)
{
    if (m.etx_ok_due > 0 && now_s() >= m.etx_ok_due)
    {
        m.etx_ok_due = 0;
        say("OK");
    }
    return m.abort || (m.page_complete && m.fet >= 0);
}

/* Serve the DTE until it has sent a page and its post-page command (+FET).  False if it hung
   up or went silent instead. */
static bool take_page_from_dte(void)
{
    char path[300];

    m.page_complete = false;
    m.fet = -1;
    m.awaiting_page = true;
    if (!serve_dte_until(page_and_fet_in) || m.abort)
    {
        m.awaiting_page = false;
        m.abort = true;
        return false;
    }
    m.awaiting_page = false;
    m.pages_from_dte++;
    snprintf(path, sizeof(path), "%s/dte-%d.tif", m.scratch, m.pages_from_dte);
    store_dte_page(path);
    snprintf(m.next_page_file, sizeof(m.next_page_file), "%s", path);
    return true;
}

/* The page just taken ends the document when the DTE said EOM (+FET=1) or EOP (+FET=2); after
   MPS spandsp asks for another page (it asks the row handler, which then waits for the DTE).
   At the end of a document spandsp asks document_handler whether another follows: EOM if so. */
static void set_last_page(void)
{
    t4_tx_state_t *tx = &m.t30->t4.tx;

    tx->tiff.stop_page = (m.fet == 1 || m.fet == 2) ? tx->current_page : INT_MAX;
}

static int document_handler(t30_state_t *s, void *user_data, int status)
{
    return m.fet == 1;
}

/* ---- Pages to the DTE ------------------------------------------------------------------ */

static int rows_in(void *user_data, const uint8_t buf[], size_t len)
{
    if (buf == NULL || len == 0)
        return 0;
    if (m.rx_rows_len + len > m.rx_rows_cap)
    {
        m.rx_rows_cap = (m.rx_rows_len + len) * 2;
        if ((m.rx_rows = realloc(m.rx_rows, m.rx_rows_cap)) == NULL)
            die("out of memory");
    }
    memcpy(m.rx_rows + m.rx_rows_len, buf, len);
    m.rx_rows_len += len;
    m.rx_row_bytes = (int) len;
    return 0;
}

static size_t rx_rows_out_pos;

static int rows_out(void *user_data, uint8_t buf[], size_t len)
{
    if (rx_rows_out_pos + len > m.rx_rows_len)
        return 0;
    memcpy(buf, m.rx_rows + rx_rows_out_pos, len);
    rx_rows_out_pos += len;
    return (int) len;
}

static void send_page_byte(uint8_t byte)
{
    uint8_t two[2] = {DLE, DLE};

    /* Class 2 modems of the SP-2388 era hand received data to the DTE bit-reversed with
       +FBOR=0 (efax reverses it back unless told -or; HylaFAX's Class 2 configs say the same):
       the lab's Class 2 does so too, Class 2.0 does not (T.32 +FBO=0 is direct both ways). */
    if ((m.bit_order & 1) ^ (m.personality == 2))
        byte = bit_reverse8(byte);
    if (byte == DLE)
        send_to_dte(two, 2);
    else
        send_to_dte(&byte, 1);
}

/* Re-code a received page as T.4 one-dimensional (MH) data, the +FCS coding we report. */
static void send_page_to_dte(void)
{
    char template_file[300];
    t4_tx_state_t *t4;
    uint8_t chunk[1024];
    uint8_t end[2] = {DLE, ETX};
    int n;
    int i;
    size_t total = 0;

    snprintf(template_file, sizeof(template_file), "%s/template.tif", m.scratch);
    if ((t4 = t4_tx_init(NULL, template_file, -1, -1)) == NULL)
        die("t4_tx_init %s failed", template_file);
    t4_tx_set_row_read_handler(t4, rows_out, NULL);
    t4_tx_set_tx_encoding(t4, T4_COMPRESSION_ITU_T4_1D);
    t4_tx_set_min_bits_per_row(t4, 0);
    rx_rows_out_pos = 0;
    if (t4_tx_start_page(t4) == 0)
    {
        do
        {
            n = t4_tx_get_chunk(t4, chunk, sizeof(chunk));
            for (i = 0;  i < n;  i++)
                send_page_byte(chunk[i]);
            total += (size_t) n;
        }
        while (n == (int) sizeof(chunk));
    }
    t4_tx_free(t4);
    /* Fill after RTC, as modems send it: efax decodes a byte ahead, and a DLE ETX right after
       the last EOL reads to it as a page without RTC (it then answers the page +FPS=2). */
    for (i = 0;  i < 2;  i++)
        send_page_byte(0);
    send_to_dte(end, 2);
    logmsg("page to the DTE: %zu rows, %zu bytes MH", m.rx_row_bytes ? m.rx_rows_len / m.rx_row_bytes : 0, total);
}

/* A blank 1728-pixel page: spandsp's T.4 encoder needs a TIFF to start from even when its rows
   come from a handler. */
static void write_template(void)
{
    char path[300];
    TIFF *tiff;
    uint8_t row[1728 / 8];

    snprintf(path, sizeof(path), "%s/template.tif", m.scratch);
    if ((tiff = TIFFOpen(path, "w")) == NULL)
        die("cannot write %s", path);
    memset(row, 0, sizeof(row));
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, 1728);
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, 1);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(tiff, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
    TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(tiff, TIFFTAG_XRESOLUTION, 204.0);
    TIFFSetField(tiff, TIFFTAG_YRESOLUTION, 196.0);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, 1);
    TIFFWriteScanline(tiff, row, 0, 0);
    TIFFClose(tiff);
}

static bool fdr_given(void)
{
    return m.abort || m.pending == PENDING_FDR;
}

static bool dc2_or_quiet(void)
{
    static int polls;

    if (m.dc2_seen || m.abort)
    {
        polls = 0;
        return true;
    }
    /* A Class 2 DTE sends DC2 when it is ready for the page; do not wait for one for long. */
    return ++polls > 100;
}

/* spandsp's own verdict on a received page, by its copy-quality thresholds (t30.c's
   copy_quality: under 5 % bad rows MCF, under 15 % RTP, else RTN; no rows at all is RTN). */
static int engine_verdict(const t4_stats_t *stats)
{
    if (stats->length > 0 && stats->bad_rows * 20 < stats->length)
        return 1;
    if (stats->bad_rows * 20 < stats->length * 3)
        return 3;
    return 2;
}

/* The page in rows_in goes to the DTE once it asks (+FDR) and is reported (+FPS with the
   modem's verdict, +FET with the sender's post-page message); then the DTE is served until it
   asks for what follows, perhaps having answered the page with AT+FPS=n first.  False if it
   hung up or went silent instead. */
static bool hand_page_to_dte(int fcf, const t4_stats_t *stats, int status)
{
    if (!serve_dte_until(fdr_given) || m.abort)
    {
        m.abort = true;
        return false;
    }
    say("CONNECT");
    m.dc2_seen = false;
    serve_dte_until(dc2_or_quiet);
    send_page_to_dte();
    m.rx_rows_len = 0;
    /* Line counts: hex in Class 2.0 (T.32 numbers), decimal in Class 2. */
    say(m.personality == 20 ? "%s:%d,%X,%X,%X,0" : "%s:%d,%d,%d,%d,0", m.n->page, status,
        stats->length, stats->bad_rows, stats->longest_bad_row_run);
    say("+FET:%d", fcf == T30_MPS ? 0 : fcf == T30_EOM ? 1 : 2);
    m.rx_answer = status;
    m.pending = PENDING_NONE;
    say("OK");
    if (!serve_dte_until(fdr_given) || m.abort)
    {
        m.abort = true;
        return false;
    }
    return true;
}

/* The engine is about to judge the page it holds (t30.c: copy_quality, from the T.4 context's
   row counts, then MCF, RTP or RTN): make the count say what the DTE answered.  spandsp has no
   call for an application's verdict on a non-ECM page; the phase D handler's return value is
   ignored and runs after the answer is chosen. */
static void dte_answers_page(t30_state_t *s, int rows)
{
    int *bad_rows = &s->t4.rx.t4_t6_rx.bad_rows;

    if (m.rx_answer == 1)
        *bad_rows = 0;                  /* MCF: under 5 % */
    else if (m.rx_answer == 3)
        *bad_rows = (rows + 9) / 10;    /* RTP: 5-15 % */
    else
        *bad_rows = rows;               /* RTN: all of them */
    logmsg("the DTE answers the page with +FPS=%d", m.rx_answer);
}

/* ---- The modem's own T.30 engine ------------------------------------------------------- */

static void frame_handler(t30_state_t *s, void *user_data, int incoming, const uint8_t msg[], int len)
{
    int fcf;
    const char *ident;

    if (len < 3)
        return;
    fcf = msg[2] & 0xFE;
    if (m.caller && incoming && fcf == T30_DIS && m.pending == PENDING_DIAL)
    {
        /* Phase B: the far end is a fax machine.  ATD is answered; the engine will send DCS
           as soon as this handler returns, and needs the first page for it. */
        params_from_frame(msg, len, false, m.remote_params);
        ident = t30_get_rx_ident(s);
        say("%s", m.n->connected);
        if (ident && ident[0])
            say("%s:\"%s\"", m.n->csi, ident);
        report_params(m.n->session, m.remote_params);
        m.pending = PENDING_NONE;
        say("OK");
        take_page_from_dte();
    }
    else if (m.caller && !incoming && fcf == T30_DCS && !m.rows_installed && !m.abort)
    {
        /* The engine has opened the first page: later pages come from the DTE, one by one. */
        t4_tx_set_row_read_handler(&s->t4.tx, rows_from_dte, NULL);
        set_last_page();
        m.rows_installed = true;
    }
    else if (!m.caller && incoming && fcf == T30_DCS)
    {
        params_from_frame(msg, len, true, m.line_params);
        m.line_params[P_DF] = 0;    /* we re-code received pages as MH for the DTE */
    }
    else if (!m.caller && incoming && (fcf == T30_MPS || fcf == T30_EOM || fcf == T30_EOP)
             && s->t4.rx.image_size > 0)
    {
        /* A page has come without ECM, and the engine will judge it once this handler returns:
           the DTE has it first, and its answer is the engine's.  (A repeated post-page message
           finds the page gone, and the engine repeats its answer.) */
        t4_stats_t stats;

        t4_rx_get_transfer_statistics(&s->t4.rx, &stats);
        m.rx_rows_len = 0;
        rows_in(NULL, s->t4.rx.image_buffer, (size_t) s->t4.rx.image_size);
        m.rx_row_bytes = s->t4.rx.bytes_per_row;
        if (hand_page_to_dte(fcf, &stats, engine_verdict(&stats)))
            dte_answers_page(s, stats.length);
        m.rx_handed = true;
    }
    else if (!m.caller && !incoming && fcf == T30_CFR && m.pending == PENDING_ANSWER)
    {
        ident = t30_get_rx_ident(s);
        say("%s", m.n->connected);
        if (ident && ident[0])
            say("%s:\"%s\"", m.n->tsi, ident);
        report_params(m.n->dcs, m.line_params);
        t4_rx_set_row_write_handler(&s->t4.rx, rows_in, NULL);
        m.pending = PENDING_NONE;
        say("OK");
    }
}

static int page_status(int fcf)
{
    switch (fcf)
    {
    case T30_MCF: return 1;
    case T30_RTN: return 2;
    case T30_RTP: return 3;
    case T30_PIN: return 4;
    case T30_PIP: return 5;
    default: return 2;
    }
}

static int phase_d_handler(t30_state_t *s, void *user_data, int fcf)
{
    t4_stats_t stats;

    if (m.caller)
    {
        /* The far end has answered our page; the pending AT+FET gets the verdict. */
        say("%s:%d", m.n->page, page_status(fcf));
        if (m.fet == 2 && fcf != T30_RTN && fcf != T30_PIN)
            return 0;   /* DCN follows: phase E adds +FHS and the final OK */
        m.pending = PENDING_NONE;
        say(m.fet_by_dle && page_status(fcf) % 2 == 0 ? "ERROR" : "OK");
        if (m.fet == 2)
            return 0;   /* spandsp ends the call after RTN to EOP */
        if (m.fet == 1 && fcf == T30_MCF)
        {
            /* After EOM spandsp goes back to phase B and opens its send file again when the
               far end's DIS comes: the DTE's next page becomes that file. */
            m.new_document = true;
            if (take_page_from_dte())
            {
                t30_set_tx_file(m.t30, m.next_page_file, -1, -1);
                m.rows_installed = false;
            }
            return 0;
        }
        if (take_page_from_dte())
            set_last_page();
        return 0;
    }
    /* We received a page (fcf: the far end's MPS/EOM/EOP).  Without ECM the DTE has had it
       and answered already (frame_handler); with ECM the engine accepted it whole, and its rows
       are in rows_in. */
    if (m.rx_handed)
    {
        m.rx_handed = false;
        m.rx_rows_len = 0;
        return 0;
    }
    t4_rx_get_transfer_statistics(&s->t4.rx, &stats);
    hand_page_to_dte(fcf, &stats, 1);
    /* The response (MCF) goes out now the DTE has asked for the next page or the end. */
    return 0;
}

static void phase_e_handler(t30_state_t *s, void *user_data, int completion_code)
{
    int status = hangup_status(completion_code);

    logmsg("modem's T.30: %s", t30_completion_code_to_str(completion_code));
    /* Class 2.0 prints T.32's code in hex; Class 2 the same digits in decimal, A0-A3 as
       100-103 (mgetty's faxhng.c table). */
    if (m.personality == 20)
        say("%s:%02X", m.n->hangup, status);
    else if (status >= 0xA0)
        say("%s:%d", m.n->hangup, 100 + status - 0xA0);
    else
        say("%s:%02X", m.n->hangup, status);
    if (m.pending != PENDING_NONE)
    {
        say(status == 0 ? "OK" : "ERROR");
        m.pending = PENDING_NONE;
    }
    m.finished = true;
}

static void start_engine(bool caller)
{
    logging_state_t *logging;

    m.fax = fax_init(NULL, caller);
    if (m.fax == NULL)
        die("fax_init failed");
    m.t30 = fax_get_t30_state(m.fax);
    m.caller = caller;
    m.rows_installed = false;
    m.pages_from_dte = 0;
    m.fet = -1;
    fax_set_transmit_on_idle(m.fax, true);
    t30_set_tx_ident(m.t30, m.local_id);
    t30_set_supported_modems(m.t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29
                                    | (m.caps[P_BR] >= 4 ? T30_SUPPORT_V17 : 0));
    t30_set_ecm_capability(m.t30, m.caps[P_EC] != 0);
    t30_set_supported_compressions(m.t30, T30_SUPPORT_T4_1D_COMPRESSION
                                          | T30_SUPPORT_T4_2D_COMPRESSION
                                          | (m.caps[P_EC] ? T30_SUPPORT_T6_COMPRESSION : 0));
    if (caller)
    {
        char path[300];

        snprintf(path, sizeof(path), "%s/dte-1.tif", m.scratch);
        t30_set_tx_file(m.t30, path, -1, -1);
    }
    else
    {
        char path[300];

        snprintf(path, sizeof(path), "%s/received.tif", m.scratch);
        t30_set_rx_file(m.t30, path, -1);
    }
    t30_set_real_time_frame_handler(m.t30, frame_handler, NULL);
    t30_set_phase_d_handler(m.t30, phase_d_handler, NULL);
    t30_set_document_handler(m.t30, document_handler, NULL);
    t30_set_phase_e_handler(m.t30, phase_e_handler, NULL);
    if (m.verbose)
    {
        logging = t30_get_logging_state(m.t30);
        span_log_set_level(logging, SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG);
        span_log_set_tag(logging, "MODEM T.30");
    }
}

static void stop_engine(void)
{
    if (m.fax == NULL)
        return;
    if (!m.finished)
        t30_terminate(m.t30);   /* phase E: +FHS to the DTE */
    if (m.row_source)
    {
        TIFFClose(m.row_source);
        m.row_source = NULL;
    }
    fax_free(m.fax);
    m.fax = NULL;
    m.t30 = NULL;
    m.finished = false;
    m.pending = PENDING_NONE;
}

int t32_line(const int16_t rx[], int16_t tx[], int len)
{
    if (m.fax == NULL)
    {
        memset(tx, 0, sizeof(int16_t) * len);
        return len;
    }
    fax_rx(m.fax, (int16_t *) rx, len);
    return fax_tx(m.fax, tx, len);
}

void t32_after_tick(void)
{
    if (m.abort)
    {
        m.abort = false;
        m.page_mode = false;
        stop_engine();
        line_hangup();
    }
    else if (m.finished)
    {
        stop_engine();
        line_hangup();
    }
}

void t32_call_event(int event)
{
    switch (event)
    {
    case AT_CALL_EVENT_ALERTING:
        say("RING");
        if (m.pending == PENDING_ANSWER)
            line_answer();
        break;
    case AT_CALL_EVENT_CONNECTED:
        if (m.pending == PENDING_DIAL)
            start_engine(true);
        break;
    case AT_CALL_EVENT_ANSWERED:
        start_engine(false);
        break;
    case AT_CALL_EVENT_BUSY:
        m.pending = PENDING_NONE;
        say("BUSY");
        break;
    case AT_CALL_EVENT_NO_ANSWER:
        m.pending = PENDING_NONE;
        say("NO ANSWER");
        break;
    case AT_CALL_EVENT_HANGUP:
        /* The far end put its handset down. */
        if (m.fax)
        {
            if (!m.finished)
            {
                t30_set_status(m.t30, T30_ERR_CALLDROPPED);
                t30_terminate(m.t30);
            }
            stop_engine();
        }
        else if (m.pending != PENDING_NONE)
        {
            m.pending = PENDING_NONE;
            say("NO CARRIER");
        }
        break;
    }
}

/* ---- Commands ------------------------------------------------------------------------- */

static bool is(const char *cmd, const char *name, const char **rest)
{
    size_t n = strlen(name);

    if (strncasecmp(cmd, name, n) != 0)
        return false;
    *rest = cmd + n;
    return true;
}

static void quoted(const char *s, char *out, size_t size)
{
    size_t n;

    if (*s == '"')
        s++;
    snprintf(out, size, "%s", s);
    n = strlen(out);
    if (n > 0 && out[n - 1] == '"')
        out[n - 1] = '\0';
}

static bool identify(const char *rest, const char *answer)
{
    if (strcmp(rest, "?") != 0)
        return false;
    say("%s", answer);
    return true;
}

/* One extended command (after "+"), e.g. "+FCLASS=2.0", "+FLI?", "+FCC=?".  Returns false for
   ERROR; sets *final false when the result code comes later (+FDT, +FDR, +FET). */
static bool extended(const char *c, bool *final)
{
    const char *r;

    if (is(c, "+FCLASS", &r))
    {
        if (strcmp(r, "=?") == 0)
            say("%s", m.n->classes);
        else if (strcmp(r, "?") == 0)
            say(m.fclass == 0 ? "0" : m.personality == 20 ? "2.0" : "2");
        else if (strcmp(r, "=0") == 0)
            m.fclass = 0;
        else if ((m.personality == 20 && strcmp(r, "=2.0") == 0)
                 || (m.personality == 2 && strcmp(r, "=2") == 0))
            m.fclass = m.personality;
        else
            return false;
        return true;
    }
    if (is(c, "+FMI", &r) || is(c, "+FMFR", &r) || is(c, "+GMI", &r))
        return identify(r, "gatewayd lab");
    if (is(c, "+FMM", &r) || is(c, "+FMDL", &r) || is(c, "+GMM", &r))
        return identify(r, m.n->model);
    if (is(c, "+FMR", &r) || is(c, "+FREV", &r) || is(c, "+GMR", &r))
        return identify(r, "spandsp 0.0.6");
    if (m.fclass == 0)
        return false;   /* the fax commands exist in the fax classes only */
    if (is(c, m.n->local_id, &r))
    {
        if (strcmp(r, "=?") == 0)
            say("(20)(32-127)");
        else if (strcmp(r, "?") == 0)
            say("\"%s\"", m.local_id);
        else if (*r == '=')
            quoted(r + 1, m.local_id, sizeof(m.local_id));
        else
            return false;
        return true;
    }
    if (is(c, m.n->caps, &r) || is(c, m.n->session, &r))
    {
        int *p = (strncasecmp(c, m.n->caps, strlen(m.n->caps)) == 0) ? m.caps : m.session;

        if (strcmp(r, "=?") == 0)
            say("(0,1),(0-5),(0),(0-2),(0,1,3),(0,1),(0),(0-7)");
        else if (strcmp(r, "?") == 0)
            report_params("", p);
        else if (*r == '=')
            return parse_params(r + 1, p);
        else
            return false;
        if (p == m.caps)
            memcpy(m.session, m.caps, sizeof(m.session));
        return true;
    }
    if (is(c, m.n->bit_order, &r))
    {
        if (strcmp(r, "=?") == 0)
            say("(0-3)");
        else if (strcmp(r, "?") == 0)
            say("%d", m.bit_order);
        else if (*r == '=' && r[1] >= '0' && r[1] <= '3' && r[2] == '\0')
            m.bit_order = r[1] - '0';
        else
            return false;
        return true;
    }
    if (is(c, "+FDT", &r))
    {
        /* Send a page: the DTE's data follows CONNECT.  Only when the engine wants one: after
           RTN to EOP spandsp ends the call, so a resend is refused here. */
        if (m.fax == NULL || !m.caller || !m.awaiting_page || m.page_mode)
            return false;
        m.line_params[P_VR] = (m.session[P_VR] && m.remote_params[P_VR]) ? 1 : 0;
        m.line_params[P_BR] = m.session[P_BR] < m.remote_params[P_BR] ? m.session[P_BR]
                                                                       : m.remote_params[P_BR];
        m.line_params[P_DF] = 0;
        /* The engine uses ECM when both ends offer it (spandsp's DCS), and says so here. */
        m.line_params[P_EC] = (m.caps[P_EC] && m.remote_params[P_EC]) ? 1 : 0;
        if (m.pages_from_dte == 0 || m.new_document)
            report_params(m.n->dcs, m.line_params);
        m.new_document = false;
        say("CONNECT");
        /* Ready for data: a Class 2 DTE waits for XON. */
        send_to_dte((const uint8_t[]) {DC1}, 1);
        m.page.len = 0;
        m.page_dle = false;
        m.page_mode = true;
        *final = false;
        return true;
    }
    if (is(c, "+FET=", &r))
    {
        if (m.fax == NULL || !m.caller || !m.page_complete || !isdigit((unsigned char) *r))
            return false;
        m.fet = atoi(r);
        if (m.fet < 0 || m.fet > 2)
            return false;
        m.pending = PENDING_FET;
        *final = false;
        return true;
    }
    if (is(c, "+FDR", &r))
    {
        if (m.fax == NULL || m.caller)
            return false;
        m.pending = PENDING_FDR;
        *final = false;
        return true;
    }
    if (is(c, m.n->page, &r))
    {
        /* Receiving: the DTE's answer to the page just reported, sent when it asks for what
           follows (+FDR): 1 MCF, 2 RTN (send it again), 3 RTP (kept, retrain). */
        if (strcmp(r, "=?") == 0)
            say("(1-3)");
        else if (strcmp(r, "?") == 0)
            say("%d", m.rx_answer ? m.rx_answer : 1);
        else if (*r == '=' && r[1] >= '1' && r[1] <= '3' && r[2] == '\0')
            m.rx_answer = r[1] - '0';
        else
            return false;
        return true;
    }
    if (is(c, "+FKS", &r) || is(c, "+FK", &r))
    {
        m.abort = true;
        if (m.fax)
            *final = false;     /* +FHS and OK come from phase E */
        return true;
    }
    if (is(c, "+FCR", &r) || is(c, "+FLO", &r) || is(c, "+FAA", &r) || is(c, "+FPP", &r)
        || is(c, "+FNR", &r) || is(c, "+FIE", &r) || is(c, "+FCQ", &r) || is(c, "+FCT", &r)
        || is(c, "+FBU", &r) || is(c, "+FMS", &r) || is(c, "+FRY", &r) || is(c, "+FPHCTO", &r)
        || is(c, "+FTBC", &r) || is(c, "+FAP", &r) || is(c, "+FSP", &r) || is(c, "+FNS", &r)
        || is(c, "+FPI", &r) || is(c, "+FPA", &r) || is(c, "+FSA", &r) || is(c, "+FPW", &r)
        || is(c, "+FBADLIN", &r) || is(c, "+FBADMUL", &r) || is(c, "+FMINSP", &r)
        || is(c, "+FRBC", &r) || is(c, "+FECM", &r) || is(c, "+FCIG", &r) || is(c, "+FSPL", &r)
        || is(c, "+FIP", &r))
    {
        /* Accepted and kept to the defaults: the engine decides these itself. */
        return true;
    }
    return false;
}

static void execute(char *line)
{
    char *p = line;
    bool final = true;
    bool ok = true;

    while (*p == ' ')
        p++;
    if (m.verbose)
        logmsg("DTE -> %s", line);
    if (strncasecmp(p, "AT", 2) != 0)
        return;
    p += 2;
    while (*p && ok)
    {
        if (*p == ' ' || *p == ';')
        {
            p++;
        }
        else if (*p == '+')
        {
            char *end = strchr(p, ';');

            if (end)
                *end = '\0';
            ok = extended(p, &final);
            p = end ? end + 1 : p + strlen(p);
        }
        else if (toupper((unsigned char) *p) == 'D')
        {
            /* The rest of the line is the number. */
            if (m.fax || m.fclass == 0)
            {
                ok = false;
                break;
            }
            m.pending = PENDING_DIAL;
            line_dial(p + 1);
            final = false;
            break;
        }
        else if (toupper((unsigned char) *p) == 'A' && !isalpha((unsigned char) p[1]))
        {
            if (m.pending == PENDING_ANSWER)
            {
                /* Answering already (efax repeats ATA when the RING it hears comes first). */
                final = false;
                break;
            }
            if (m.fclass == 0 || m.fax)
            {
                ok = false;
                break;
            }
            /* Before the first RING (efax -r does this) the modem answers when it rings. */
            m.pending = PENDING_ANSWER;
            line_answer();
            final = false;
            p++;
        }
        else if (toupper((unsigned char) *p) == 'H' || toupper((unsigned char) *p) == 'Z')
        {
            if (m.fax)
                m.abort = true;
            else
                line_hangup();
            if (toupper((unsigned char) *p) == 'Z')
                m.fclass = 0;
            p++;
            while (isdigit((unsigned char) *p))
                p++;
        }
        else if (toupper((unsigned char) *p) == 'I')
        {
            p++;
            if (*p == '3' || *p == '0' || !isdigit((unsigned char) *p))
                say("%s", m.n->model);
            while (isdigit((unsigned char) *p))
                p++;
        }
        else if (toupper((unsigned char) *p) == 'E')
        {
            m.echo = (p[1] == '1');
            p++;
            while (isdigit((unsigned char) *p))
                p++;
        }
        else if (toupper((unsigned char) *p) == 'S')
        {
            /* S registers: accepted, not kept. */
            p++;
            while (isdigit((unsigned char) *p) || *p == '=' || *p == '?')
                p++;
        }
        else if (*p == '&' || *p == '\\')
        {
            p += 2;
            while (isdigit((unsigned char) *p))
                p++;
        }
        else if (isalpha((unsigned char) *p))
        {
            /* V, Q, X, M, L, B ...: accepted. */
            p++;
            while (isdigit((unsigned char) *p))
                p++;
        }
        else
        {
            ok = false;
        }
    }
    if (!ok)
        say("ERROR");
    else if (final)
        say("OK");
}

void t32_at_rx(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0;  i < len;  i++)
    {
        uint8_t c = buf[i];

        if (m.page_mode)
        {
            page_rx(c);
            continue;
        }
        if (c == DC2)
        {
            m.dc2_seen = true;
            continue;
        }
        if (c == 0x18 && m.fax)
        {
            /* CAN: the DTE aborts the session (T.32 8.3.2). */
            m.abort = true;
            continue;
        }
        if (m.echo)
            send_to_dte(&c, 1);
        if (c == '\r')
        {
            m.cmd[m.cmd_len] = '\0';
            if (m.cmd_len > 0)
                execute(m.cmd);
            m.cmd_len = 0;
        }
        else if (c >= 0x20 && c < 0x7F && m.cmd_len < sizeof(m.cmd) - 1)
        {
            m.cmd[m.cmd_len++] = (char) c;
        }
    }
}

void t32_init(int personality, const char *scratch_dir, bool verbose, double speed)
{
    memset(&m, 0, sizeof(m));
    m.personality = personality;
    m.n = (personality == 20) ? &class20_names : &class2_names;
    snprintf(m.scratch, sizeof(m.scratch), "%s", scratch_dir);
    m.verbose = verbose;
    m.speed = speed;
    m.echo = true;
    /* Fine resolution, 14400 bit/s, A4 width, unlimited length, MR, no ECM. */
    m.caps[P_VR] = 1;
    m.caps[P_BR] = 5;
    m.caps[P_LN] = 2;
    m.caps[P_DF] = 1;
    memcpy(m.session, m.caps, sizeof(m.session));
    m.fet = -1;
    write_template();
}

void t32_free(void)
{
    char path[600];
    DIR *dir;
    struct dirent *entry;

    stop_engine();
    if ((dir = opendir(m.scratch)) != NULL)
    {
        while ((entry = readdir(dir)) != NULL)
        {
            if (entry->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", m.scratch, entry->d_name);
            unlink(path);
        }
        closedir(dir);
    }
    rmdir(m.scratch);
    free(m.page.data);
    free(m.rx_rows);
}
