// Package random is the stand-in of the random provider (pulumi-random v4.19.0): RandomPassword,
// generated here with the same rules (length, character classes and their minimums, the
// special set), every input replacing the password when it changes, the result secret.
package random

import (
	"crypto/rand"
	"math/big"
	"slices"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/testsupport/standin"
)

// Version is the pulumi-random version the program pins (go.mod).
const Version = "4.19.0"

const (
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars = "0123456789"
	// defaultSpecial is the provider's special set when overrideSpecial is unset.
	defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"
)

// New returns the stand-in random provider.
func New() *standin.Provider {
	inputs := standin.InputKeys(random.RandomPasswordArgs{})
	forceNew := make([]string, 0, len(inputs))
	for k := range inputs {
		forceNew = append(forceNew, string(k))
	}
	slices.Sort(forceNew)
	return &standin.Provider{
		Package: "random", Version: Version,
		Kinds: map[string]*standin.Kind{
			"random:index/randomPassword:RandomPassword": {
				Args: random.RandomPasswordArgs{}, ForceNew: forceNew, Local: true, Required: []string{"length"},
				Outputs:  []string{"result", "bcryptHash"},
				Validate: validate,
				Create:   create,
			},
		},
	}
}

func validate(news resource.PropertyMap) []plugin.CheckFailure {
	minimum := standin.Num(news, "minLower") + standin.Num(news, "minUpper") + standin.Num(news, "minNumeric") + standin.Num(news, "minSpecial")
	if l := standin.Num(news, "length"); l < 1 || l < minimum {
		return []plugin.CheckFailure{{Property: "length", Reason: "length must be at least 1 and at least the sum of the minimums"}}
	}
	return nil
}

func create(op *standin.Op) error {
	in := op.Inputs
	enabled := func(key string) bool { return !standin.Has(in, key) || standin.Bool(in, key) }
	special := defaultSpecial
	if standin.Has(in, "overrideSpecial") {
		special = standin.Str(in, "overrideSpecial")
	}
	classes := []struct {
		on    bool
		chars string
		min   int
	}{
		{enabled("lower"), lowerChars, int(standin.Num(in, "minLower"))},
		{enabled("upper"), upperChars, int(standin.Num(in, "minUpper"))},
		{enabled("numeric"), numericChars, int(standin.Num(in, "minNumeric"))},
		{enabled("special"), special, int(standin.Num(in, "minSpecial"))},
	}
	var result []byte
	all := ""
	for _, c := range classes {
		if !c.on {
			continue
		}
		all += c.chars
		for range c.min {
			result = append(result, pick(c.chars))
		}
	}
	for len(result) < int(standin.Num(in, "length")) {
		result = append(result, pick(all))
	}
	// Shuffle so the minimums do not sit at the front.
	for i := len(result) - 1; i > 0; i-- {
		j := int(randInt(i + 1))
		result[i], result[j] = result[j], result[i]
	}
	op.ID = "none"
	op.Set("result", string(result))
	op.SecretOut["result"] = true
	return nil
}

func pick(chars string) byte { return chars[randInt(len(chars))] }

func randInt(n int) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}
