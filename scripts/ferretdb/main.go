// the0-ferretdb: a MongoDB-wire server for the orchestrator's drop-in tests, FerretDB with its
// SQLite backend. It listens on 127.0.0.1 and a free port, prints "listening <addr>" on stdout
// when it accepts connections, and stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("dir", "", "directory for the SQLite databases (required)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "the0-ferretdb: --dir is required")
		os.Exit(2)
	}
	// Pick a free port: bind port 0, read it, release it for FerretDB.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "the0-ferretdb: cannot find a free port:", err)
		os.Exit(1)
	}
	addr := probe.Addr().String()
	probe.Close()

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "the0-ferretdb:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	done := make(chan struct{})
	go func() {
		server.Run(ctx)
		close(done)
	}()
	// Report the address once the listener answers.
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-done:
			fmt.Fprintln(os.Stderr, "the0-ferretdb: the server stopped before it listened")
			os.Exit(1)
		default:
		}
	}
	fmt.Printf("listening %s\n", addr)
	<-done
}
