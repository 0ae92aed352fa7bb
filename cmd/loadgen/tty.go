package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal, for the live progress line.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
