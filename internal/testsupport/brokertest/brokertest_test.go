package brokertest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestASkipIsLogged: without a broker, Require skips the test and appends it to the file
// EnvSkipLog names, from which `make test` counts the skips.
func TestASkipIsLogged(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skipped")
	t.Setenv(EnvSkipLog, log)
	for _, name := range []string{EnvAMQPURL, EnvAMQPSURL, EnvCAFile, "CI"} {
		t.Setenv(name, "")
	}
	for range 2 {
		t.Run("needs a broker", func(t *testing.T) {
			Require(t)
			t.Error("Require returned without a broker")
		})
	}
	got, err := os.ReadFile(log) //nolint:gosec // G304: the test's own temporary file
	if err != nil {
		t.Fatal(err)
	}
	want := "./internal/testsupport/brokertest TestASkipIsLogged/needs_a_broker\n./internal/testsupport/brokertest TestASkipIsLogged/needs_a_broker#01\n"
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", EnvSkipLog, got, want)
	}
}
