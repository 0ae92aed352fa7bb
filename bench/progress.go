package bench

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress prints a run's ticks. On a terminal (Live) it keeps one line up to
// date in place; otherwise it prints a plain line every Every. It is safe for
// concurrent use; Tick is meant to be Config.OnTick.
type Progress struct {
	// W receives the output.
	W io.Writer
	// Live redraws one line with a carriage return (for a terminal).
	Live bool
	// Every is how often a plain (not Live) line is printed. Default 5s.
	Every time.Duration

	mu        sync.Mutex
	lastPrint time.Duration
	drawn     bool
}

// Tick prints t according to the mode.
func (p *Progress) Tick(t Tick) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := progressLine(t)
	if p.Live {
		fmt.Fprintf(p.W, "\r\033[K%s", line)
		p.drawn = true
		if t.Final {
			fmt.Fprint(p.W, "\n")
			p.drawn = false
		}
		return
	}
	every := p.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	if t.WarmUp {
		return
	}
	if t.Final || t.Elapsed-p.lastPrint >= every {
		fmt.Fprintln(p.W, line)
		p.lastPrint = t.Elapsed
		if t.Final {
			p.lastPrint = 0
		}
	}
}

// Clear ends a live line that a cancelled run left open.
func (p *Progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Live && p.drawn {
		fmt.Fprint(p.W, "\n")
		p.drawn = false
	}
}

func progressLine(t Tick) string {
	if t.WarmUp {
		return fmt.Sprintf("[%s] warming up %.0fs", t.Label, t.Elapsed.Seconds())
	}
	left := ""
	if t.Planned > 0 && !t.Final {
		rem := t.Planned - t.Elapsed
		if rem < -250*time.Millisecond {
			left = " (draining)"
		} else {
			left = fmt.Sprintf(" / %s, %s left", t.Planned.Round(time.Second), max(rem, 0).Round(time.Second))
		}
	}
	done := ""
	if t.Final {
		done = " done"
	}
	return fmt.Sprintf("[%s] %s%s%s  %.0f calls/s  p99 %s  calls %d  errors %d",
		t.Label, t.Elapsed.Round(time.Second), left, done, t.Rate, FormatDuration(t.P99), t.Calls, t.Errors)
}
