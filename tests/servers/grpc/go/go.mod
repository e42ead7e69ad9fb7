module beyla.test/grpcprobe

go 1.26

require (
	google.golang.org/grpc v1.85.0
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2
	google.golang.org/protobuf v1.36.12
)

// The code generators, at the versions above (the generated code must match
// the runtime it links against): scripts/build_grpc_servers.sh builds them
// with `go build` and runs them through protoc.
tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)
