// Accuracy-harness Go net/http server.  usage: server PORT COST_MS sleep|spin
package main

import (
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	port := os.Args[1]
	ms, _ := strconv.ParseFloat(os.Args[2], 64)
	cost := time.Duration(ms * float64(time.Millisecond))
	spin := len(os.Args) > 3 && os.Args[3] == "spin"
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		if spin {
			end := time.Now().Add(cost)
			for time.Now().Before(end) {
			}
		} else {
			time.Sleep(cost)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "3")
		w.Write([]byte("ok\n"))
	})
	if err := http.ListenAndServe("127.0.0.1:"+port, nil); err != nil {
		panic(err)
	}
}
