// Package standin holds what the three stand-in provider plugins share: the plugin entry point,
// the schema read from the real SDKs' argument types, and the conversions between Pulumi's
// property values and the plain values the stand-in account stores.
//
// The stand-ins are a test double of AWS for the real-engine suite (enginetest): the real
// Pulumi CLI runs the program against them. Nothing here is deployed.
package standin

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// InputKeys lists the property names a real provider accepts for a resource or data source:
// the `pulumi:"..."` tags of the SDK's argument type (for resources, the unexported struct
// that the exported Args type's ElementType returns). A key outside them fails Check, as an
// unknown property fails the real provider.
func InputKeys(args any) map[resource.PropertyKey]bool {
	t := reflect.TypeOf(args)
	if et, ok := args.(interface{ ElementType() reflect.Type }); ok {
		t = et.ElementType()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	keys := map[resource.PropertyKey]bool{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("pulumi")
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			keys[resource.PropertyKey(name)] = true
		}
	}
	return keys
}

// Plain turns a property value into what AWS would store: secrets revealed, archives and
// assets as their hash, resource references as their id, unknowns as nil.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsNull(), v.IsComputed():
		return nil
	case v.IsSecret():
		return Plain(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil
		}
		return Plain(v.OutputValue().Element)
	case v.IsAsset():
		return v.AssetValue().Hash
	case v.IsArchive():
		return v.ArchiveValue().Hash
	case v.IsResourceReference():
		ref := v.ResourceReferenceValue()
		if id, ok := ref.IDString(); ok {
			return id
		}
		return string(ref.URN)
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, Plain(e))
		}
		return out
	case v.IsObject():
		return PlainMap(v.ObjectValue())
	}
	return v.V
}

// PlainMap is Plain over a map, dropping nulls.
func PlainMap(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if p := Plain(v); p != nil {
			out[string(k)] = p
		}
	}
	return out
}

// Equal compares two property values as AWS would see them (secret wrappers and asset
// contents aside). Unknowns never equal anything.
func Equal(a, b resource.PropertyValue) bool {
	if a.ContainsUnknowns() || b.ContainsUnknowns() {
		return false
	}
	return reflect.DeepEqual(normalise(Plain(a)), normalise(Plain(b)))
}

// IsEmpty says whether a value is absent in AWS's eyes: null, "", [] or {}.
func IsEmpty(v resource.PropertyValue) bool {
	switch p := Plain(v).(type) {
	case nil:
		return !v.ContainsUnknowns()
	case string:
		return p == ""
	case []any:
		return len(p) == 0
	case map[string]any:
		return len(p) == 0
	}
	return false
}

// normalise makes values from JSON and from property values comparable: numbers as float64.
func normalise(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	}
	return v
}

// Str reads a string property ("" if absent, unknown or not a string).
func Str(m resource.PropertyMap, key string) string {
	s, _ := Plain(m[resource.PropertyKey(key)]).(string)
	return s
}

// Strs reads a list of strings.
func Strs(m resource.PropertyMap, key string) []string {
	var out []string
	list, _ := Plain(m[resource.PropertyKey(key)]).([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Num reads a number (0 if absent).
func Num(m resource.PropertyMap, key string) float64 {
	f, _ := Plain(m[resource.PropertyKey(key)]).(float64)
	return f
}

// Bool reads a boolean.
func Bool(m resource.PropertyMap, key string) bool {
	b, _ := Plain(m[resource.PropertyKey(key)]).(bool)
	return b
}

// Has says whether a key holds a value (known or not).
func Has(m resource.PropertyMap, key string) bool {
	v, ok := m[resource.PropertyKey(key)]
	return ok && !v.IsNull()
}

// UnknownKeys returns, sorted, the keys of m that are not in known.
func UnknownKeys(m resource.PropertyMap, known map[resource.PropertyKey]bool) []string {
	var out []string
	for k := range m {
		if !known[k] && !strings.HasPrefix(string(k), "__") {
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
}

// SortedKeys returns a map's keys in order.
func SortedKeys[V any](m map[resource.PropertyKey]V) []resource.PropertyKey {
	keys := make([]resource.PropertyKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Errorf is an error in the form AWS's APIs report them: "<Code>: <message>".
func Errorf(code, format string, args ...any) error {
	return fmt.Errorf("%s: %s", code, fmt.Sprintf(format, args...))
}
