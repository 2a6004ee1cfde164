package rabbitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCAPool(t *testing.T) {
	if pool, err := CAPool(""); pool != nil || err != nil {
		t.Errorf(`CAPool("") = %v, %v; want the system roots (nil)`, pool, err)
	}
	if _, err := CAPool(os.DevNull); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("CAPool of an empty file: %v", err)
	}
	if _, err := CAPool(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "reading the CA bundle") {
		t.Errorf("CAPool of a missing file: %v", err)
	}
}
