package redact

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds what LineWriter holds back waiting for a newline. A longer
// line is redacted and written in pieces, so a secret straddling the cut is
// still caught only if registered with Add or short enough to fit one piece.
const maxLine = 1 << 20

// LineWriter redacts whole lines before passing them on. Call Flush (or
// Close) at the end to write a final line without a newline.
type LineWriter struct {
	r   *Redactor
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// Writer returns a line-buffered writer that redacts each line before
// writing it to w.
func (r *Redactor) Writer(w io.Writer) *LineWriter {
	return &LineWriter{r: r, w: w}
}

// Write buffers p and writes every completed line, redacted. It reports
// len(p) written unless the underlying writer fails.
func (lw *LineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf, p...)
	i := bytes.LastIndexByte(lw.buf, '\n')
	if i < 0 && len(lw.buf) < maxLine {
		return len(p), nil
	}
	end := i + 1
	if i < 0 {
		end = len(lw.buf)
	}
	if _, err := lw.w.Write(lw.r.RedactBytes(lw.buf[:end])); err != nil {
		return 0, err
	}
	lw.buf = append(lw.buf[:0], lw.buf[end:]...)
	return len(p), nil
}

// Flush writes any buffered partial line, redacted.
func (lw *LineWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) == 0 {
		return nil
	}
	_, err := lw.w.Write(lw.r.RedactBytes(lw.buf))
	lw.buf = lw.buf[:0]
	return err
}

// Close flushes; it does not close the underlying writer.
func (lw *LineWriter) Close() error { return lw.Flush() }
