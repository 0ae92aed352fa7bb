package devnet

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the <-- lines of testdata/*.transcript from the server")

// TestTranscripts replays the golden exchanges in testdata/*.transcript:
// "--> POST /path body" is what the client sent, "<-- body" what the server
// must answer byte for byte ("<--" alone: an empty body). Lines starting with
// "//" are comments.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.transcript")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s := startServer(t, Config{})
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out []string
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			var lastReply string
			exchanges := 0
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "--> POST "):
					rest := strings.TrimPrefix(line, "--> POST ")
					path, body, _ := strings.Cut(rest, " ")
					r := post(t, s, path, body)
					if r.err != nil || r.status != 200 {
						t.Fatalf("%s: status %d err %v", line, r.status, r.err)
					}
					lastReply = string(r.body)
					out = append(out, line)
				case line == "<--" || strings.HasPrefix(line, "<-- "):
					exchanges++
					want := strings.TrimPrefix(strings.TrimPrefix(line, "<--"), " ")
					if *update {
						out = append(out, strings.TrimSpace("<-- "+lastReply))
						continue
					}
					if lastReply != want {
						t.Fatalf("exchange %d\n got <-- %s\nwant <-- %s", exchanges, lastReply, want)
					}
				default:
					out = append(out, line)
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if exchanges == 0 {
				t.Fatal("no exchanges")
			}
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
