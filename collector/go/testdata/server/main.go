// A tiny HTTP server used by the covflush tests and the collector's
// end-to-end test. Build it with -cover -covermode=atomic.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"

	covflush "github.com/covlens/covlens/collector/go"
)

func classify(n int) string {
	switch {
	case n < 0:
		return "negative"
	case n == 0:
		return "zero"
	case n%2 == 0:
		return "even"
	default:
		return "odd"
	}
}

func never() int { // stays uncovered
	return 42
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	f, err := covflush.Start(covflush.Options{})
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/classify", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, classify(n))
	})
	http.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		if err := f.Flush(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "flushed")
	})
	http.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if err := f.Stop(); err != nil {
			log.Print(err)
		}
		os.Exit(code)
	})
	if len(os.Args) > 100 {
		never()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, nil))
}
