// Command argo-health runs an Argo CD resource health script (health.lua)
// against one Kubernetes object the way Argo CD does
// (argo-cd util/lua.VM.ExecuteHealthLua), with github.com/yuin/gopher-lua.
//
// Usage:
//
//	argo-health --script health.lua [FILE]   (no FILE or "-": standard input)
//
// FILE holds one object as JSON (YAML is accepted too). As in Argo CD, the
// object is the global `obj` (JSON objects become tables, arrays 1-based
// tables, numbers Lua numbers, null nil), the standard libraries are open (as
// for Argo CD's built-in scripts) and the script has 1 s to run. It prints one
// line:
//
//	<status>\t<message>
//
// where status is what the script's returned table says (Healthy,
// Progressing, Degraded, Suspended, Missing or Unknown; any other value gives
// Unknown and "Lua returned an invalid health status", as in Argo CD). A
// script that returns nil or an empty table prints an empty status.
//
// Exit status: 0 when the script ran; 1 when the input or the script cannot
// be read or parsed, or the script fails (the error then also goes to stdout
// as "Unknown\t<error>", what Argo CD would show); 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const invalidHealthStatus = "Lua returned an invalid health status"

func main() {
	script := flag.String("script", "", "the health.lua script (required)")
	flag.Parse()
	if *script == "" || flag.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "usage: argo-health --script health.lua [FILE]")
		os.Exit(2)
	}
	src, err := os.ReadFile(*script)
	if err != nil {
		fail("%v", err)
	}
	input := "-"
	if flag.NArg() == 1 {
		input = flag.Arg(0)
	}
	obj, err := readObject(input)
	if err != nil {
		fail("%s: %v", input, err)
	}
	status, message, err := executeHealthLua(obj, string(src))
	if err != nil {
		fmt.Printf("Unknown\t%s\n", oneLine(err.Error()))
		fail("%s: %v", *script, err)
	}
	fmt.Printf("%s\t%s\n", status, oneLine(message))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "argo-health: "+format+"\n", args...)
	os.Exit(1)
}

func readObject(name string) (map[string]any, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	// YAML is a superset of JSON; this leaves JSON as it is.
	data, err = yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("expected one Kubernetes object")
	}
	return obj, nil
}

// executeHealthLua follows Argo CD's VM.runLua and VM.ExecuteHealthLua.
func executeHealthLua(obj map[string]any, script string) (status, message string, err error) {
	l := lua.NewState() // standard libraries open, as for built-in scripts
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", decodeValue(l, obj))
	fn, err := l.LoadString(script)
	if err != nil {
		return "", "", err
	}
	l.Push(fn)
	if err := l.PCall(0, lua.MultRet, nil); err != nil {
		if apiErr, ok := err.(*lua.ApiError); ok && apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
			err = apiErr
		}
		return "", "", err
	}
	ret := l.Get(-1)
	switch ret.Type() {
	case lua.LTNil:
		return "", "", nil
	case lua.LTTable:
	default:
		return "", "", fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	tbl := ret.(*lua.LTable)
	if tbl.Len() > 0 || isEmpty(tbl) {
		// Argo CD encodes the table as JSON: an empty or array-like table
		// becomes an array, which it reads as an empty health status.
		return "", "", nil
	}
	status, err = stringField(tbl, "status")
	if err != nil {
		return "", "", err
	}
	message, err = stringField(tbl, "message")
	if err != nil {
		return "", "", err
	}
	switch status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
		return status, message, nil
	}
	return "Unknown", invalidHealthStatus, nil
}

func isEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

func stringField(t *lua.LTable, key string) (string, error) {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return "", nil
	case lua.LString:
		return string(v), nil
	default:
		return "", fmt.Errorf("json: cannot unmarshal %s into Go struct field HealthStatus.%s of type string", v.Type(), key)
	}
}

// decodeValue is Argo CD's conversion of the object into Lua values.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	}
	return lua.LNil
}

func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
