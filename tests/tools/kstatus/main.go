// Command kstatus prints kstatus's verdict (sigs.k8s.io/cli-utils status.Compute, the library
// Flux uses for health checks) for every object it reads.
//
// Usage: kstatus [FILE...]   (no FILE, or "-": standard input)
//
// Input: YAML or JSON, several objects per stream ("---" separated YAML or concatenated JSON);
// a List's items count one by one. Output: one JSON array, in input order, of
// {"source", "apiVersion", "kind", "name", "status", "message"}.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Source     string `json:"source"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Message    string `json:"message"`
}

func main() {
	sources := os.Args[1:]
	if len(sources) == 0 {
		sources = []string{"-"}
	}
	verdicts := []verdict{}
	for _, source := range sources {
		found, err := computeAll(source)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus: %s: %v\n", source, err)
			os.Exit(1)
		}
		verdicts = append(verdicts, found...)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(verdicts); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(1)
	}
}

func computeAll(source string) ([]verdict, error) {
	in := io.Reader(os.Stdin)
	if source != "-" {
		f, err := os.Open(source)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(in, 4096)
	verdicts := []verdict{}
	for {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); errors.Is(err, io.EOF) {
			return verdicts, nil
		} else if err != nil {
			return nil, err
		}
		if len(raw) == 0 || string(raw) == "null" { // an empty YAML document
			continue
		}
		// The API machinery's own JSON decoding: integers stay int64, as kstatus expects.
		decoded, _, err := unstructured.UnstructuredJSONScheme.Decode(raw, nil, nil)
		if err != nil {
			return nil, err
		}
		var objects []*unstructured.Unstructured
		switch obj := decoded.(type) {
		case *unstructured.Unstructured:
			objects = append(objects, obj)
		case *unstructured.UnstructuredList:
			for i := range obj.Items {
				objects = append(objects, &obj.Items[i])
			}
		}
		for _, obj := range objects {
			result, err := status.Compute(obj)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
			}
			verdicts = append(verdicts, verdict{
				Source:     source,
				APIVersion: obj.GetAPIVersion(),
				Kind:       obj.GetKind(),
				Name:       obj.GetName(),
				Status:     result.Status.String(),
				Message:    result.Message,
			})
		}
	}
}
