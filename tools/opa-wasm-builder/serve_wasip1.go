package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"
)

// The host's side of `serve` (src/policy/engine/opa-wasm-runner.ts): waitRequest blocks until the
// host has a request and returns its size in bytes (0: stop); readRequest copies it to buf;
// sendResponse hands the host the response.

//go:wasmimport keywarden wait_request
func waitRequest() uint32

//go:wasmimport keywarden read_request
func readRequest(buf unsafe.Pointer)

//go:wasmimport keywarden send_response
func sendResponse(buf unsafe.Pointer, size uint32)

type request struct {
	// Dir is the working folder of this command, inside the preopened folder.
	Dir  string   `json:"dir"`
	Args []string `json:"args"`
}

type response struct {
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// serve answers requests until the host says stop. A command that panics answers exit 2 with the
// panic; a fatal runtime error (out of memory) ends the instance, and the host starts another.
func serve() int {
	// A runaway recursion fails this command well before it fills the host's memory cap.
	debug.SetMaxStack(64 << 20)
	for {
		n := waitRequest()
		if n == 0 {
			return 0
		}
		buf := make([]byte, n)
		readRequest(unsafe.Pointer(&buf[0]))
		var req request
		var res response
		if err := json.Unmarshal(buf, &req); err != nil {
			res = response{Code: 2, Stderr: "bad request: " + err.Error()}
		} else {
			res = handle(req)
		}
		out, err := json.Marshal(res)
		if err != nil {
			out = []byte(`{"code":2,"stderr":"response not encodable"}`)
		}
		sendResponse(unsafe.Pointer(&out[0]), uint32(len(out)))
	}
}

func handle(req request) (res response) {
	var stdout, stderr bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(&stderr, "panic: %v\n", p)
			res = response{Code: 2, Stdout: stdout.String(), Stderr: stderr.String()}
		}
		_ = os.Chdir("/")
	}()
	if err := os.Chdir(req.Dir); err != nil {
		return response{Code: 2, Stderr: err.Error()}
	}
	code := run(req.Args, &stdout, &stderr)
	return response{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}
