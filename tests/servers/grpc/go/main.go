// grpcprobe - the Probe service (../probe.proto) on grpc-go, server and client.
//
//	grpcprobe server -port PORT [-tls]
//	grpcprobe client -target HOST:PORT [-only STEP,...] [-tls]
//
// The server listens on 127.0.0.1:PORT without TLS (HTTP/2 in the clear),
// or with -tls over TLS (crypto/tls, a self-signed certificate made at
// start; the client's -tls trusts any), and prints "listening PORT" once it
// serves; SIGTERM or SIGINT stop it.  The
// client makes the calls ../probe_client.py makes, in the same order and with
// the same sizes, over one connection, and prints one line per call:
// "METHOD CODE SENT RECEIVED".  probepb is generated from probe.proto by
// scripts/build_grpc_servers.sh (protoc-gen-go, protoc-gen-go-grpc).
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "beyla.test/grpcprobe/probepb"
)

type probe struct {
	pb.UnimplementedProbeServer
}

func (probe) Echo(_ context.Context, r *pb.EchoRequest) (*pb.EchoReply, error) {
	time.Sleep(time.Duration(r.DelayMs) * time.Millisecond)
	return &pb.EchoReply{Payload: r.Payload}, nil
}

func (probe) Count(r *pb.CountRequest, s grpc.ServerStreamingServer[pb.CountReply]) error {
	for i := int32(0); i < r.Count; i++ {
		if err := s.Send(&pb.CountReply{Payload: bytes.Repeat([]byte{'c'}, int(r.Size))}); err != nil {
			return err
		}
	}
	return nil
}

func (probe) Sum(s grpc.ClientStreamingServer[pb.SumRequest, pb.SumReply]) error {
	var total int64
	for {
		m, err := s.Recv()
		if err == io.EOF {
			return s.SendAndClose(&pb.SumReply{Total: total})
		}
		if err != nil {
			return err
		}
		total += m.Value
	}
}

func (probe) Chat(s grpc.BidiStreamingServer[pb.ChatMessage, pb.ChatMessage]) error {
	for {
		m, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&pb.ChatMessage{Payload: m.Payload}); err != nil {
			return err
		}
	}
}

func (probe) Lookup(_ context.Context, r *pb.LookupRequest) (*pb.LookupReply, error) {
	if r.Key != "present" {
		return nil, status.Errorf(codes.NotFound, "no key %q", r.Key)
	}
	return &pb.LookupReply{Value: "here"}, nil
}

func (probe) Fail(_ context.Context, r *pb.FailRequest) (*pb.FailReply, error) {
	msg := r.Message
	if msg == "" {
		msg = "failed as asked"
	}
	return nil, status.Error(codes.Code(r.Code), msg)
}

// selfSigned makes a certificate for 127.0.0.1, valid for a day.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func server(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	port := fs.Int("port", 0, "port on 127.0.0.1")
	useTLS := fs.Bool("tls", false, "serve over TLS")
	fs.Parse(args)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	var opts []grpc.ServerOption
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	}
	s := grpc.NewServer(opts...)
	pb.RegisterProbeServer(s, probe{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; s.Stop() }()
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	return s.Serve(ln)
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	target := fs.String("target", "", "HOST:PORT")
	only := fs.String("only", "echo,count,sum,chat,lookup,fail,concurrent", "steps")
	useTLS := fs.Bool("tls", false, "call over TLS (any certificate)")
	fs.Parse(args)
	creds := insecure.NewCredentials()
	if *useTLS {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})
	}
	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := pb.NewProbeClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []string
	for _, step := range strings.Split(*only, ",") {
		switch step {
		case "echo":
			if _, err := c.Echo(ctx, &pb.EchoRequest{Payload: bytes.Repeat([]byte{'e'}, 100)}); err != nil {
				return err
			}
			out = append(out, "Echo 0 1 1")
		case "count":
			s, err := c.Count(ctx, &pb.CountRequest{Count: 5, Size: 20})
			if err != nil {
				return err
			}
			n := 0
			for {
				if _, err := s.Recv(); err == io.EOF {
					break
				} else if err != nil {
					return err
				}
				n++
			}
			out = append(out, fmt.Sprintf("Count 0 1 %d", n))
		case "sum":
			s, err := c.Sum(ctx)
			if err != nil {
				return err
			}
			for _, v := range []int64{1, 2, 3, 4} {
				if err := s.Send(&pb.SumRequest{Value: v}); err != nil {
					return err
				}
			}
			r, err := s.CloseAndRecv()
			if err != nil {
				return err
			}
			if r.Total != 10 {
				return fmt.Errorf("sum: got %d", r.Total)
			}
			out = append(out, "Sum 0 4 1")
		case "chat":
			s, err := c.Chat(ctx)
			if err != nil {
				return err
			}
			n := 0
			for i := 0; i < 3; i++ {
				if err := s.Send(&pb.ChatMessage{Payload: bytes.Repeat([]byte{'h'}, 30)}); err != nil {
					return err
				}
				if _, err := s.Recv(); err != nil {
					return err
				}
				n++
			}
			if err := s.CloseSend(); err != nil {
				return err
			}
			if _, err := s.Recv(); err != io.EOF {
				return fmt.Errorf("chat: want the end, got %v", err)
			}
			out = append(out, fmt.Sprintf("Chat 0 3 %d", n))
		case "lookup":
			_, err := c.Lookup(ctx, &pb.LookupRequest{Key: "missing"})
			out = append(out, fmt.Sprintf("Lookup %d 1 0", status.Code(err)))
		case "fail":
			_, err := c.Fail(ctx, &pb.FailRequest{Code: 13, Message: "boom"})
			out = append(out, fmt.Sprintf("Fail %d 1 0", status.Code(err)))
		case "concurrent":
			// all 8 started before any is waited for, on the one connection,
			// each held 50 ms by the server: all in flight together
			errs := make(chan error, 8)
			start := make(chan struct{})
			for n := 40; n < 48; n++ {
				go func(n int) {
					<-start
					_, err := c.Echo(ctx, &pb.EchoRequest{Payload: bytes.Repeat([]byte{'x'}, n), DelayMs: 50})
					errs <- err
				}(n)
			}
			close(start)
			for i := 0; i < 8; i++ {
				if err := <-errs; err != nil {
					return err
				}
				out = append(out, "Echo 0 1 1")
			}
		default:
			return fmt.Errorf("unknown step %q", step)
		}
	}
	fmt.Println(strings.Join(out, "\n"))
	return nil
}

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "server" {
		err = server(os.Args[2:])
	} else if len(os.Args) > 1 && os.Args[1] == "client" {
		err = client(os.Args[2:])
	} else {
		err = fmt.Errorf("usage: grpcprobe server -port PORT | grpcprobe client -target HOST:PORT [-only STEPS]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcprobe:", err)
		os.Exit(1)
	}
}
