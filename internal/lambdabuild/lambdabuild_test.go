package lambdabuild

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"testing"
)

// TestListenerArchiveIsReproducible builds the listener twice, into different directories,
// and wants byte-identical archives: otherwise every `pulumi up` would redeploy the function.
func TestListenerArchiveIsReproducible(t *testing.T) {
	var archives [2][]byte
	var hashes [2]string
	for i := range archives {
		art, err := Build(context.Background(), Spec{ModuleDir: "../..", Package: "./listener", OutDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if archives[i], err = os.ReadFile(art.ZipPath); err != nil {
			t.Fatal(err)
		}
		hashes[i] = art.SHA256
	}
	if !bytes.Equal(archives[0], archives[1]) || hashes[0] != hashes[1] {
		t.Fatalf("two builds of the same sources differ (hashes %s, %s)", hashes[0], hashes[1])
	}
	t.Logf("listener archive: %d bytes, sha256 %s", len(archives[0]), hashes[0])

	zr, err := zip.NewReader(bytes.NewReader(archives[0]), int64(len(archives[0])))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("archive entries = %v, want only bootstrap", zr.File)
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Modified.Equal(zipEpoch) {
		t.Errorf("bootstrap mode %v, modified %v; want 0755 and %v", f.Mode(), f.Modified, zipEpoch)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var binary bytes.Buffer
	if _, err := binary.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	exe, err := elf.NewFile(bytes.NewReader(binary.Bytes()))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF executable: %v", err)
	}
	if exe.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is built for %v, want arm64 (the functions run on Graviton)", exe.Machine)
	}
	if exe.Section(".symtab") != nil {
		t.Error("bootstrap has a symbol table; it must be stripped")
	}
}

func TestBuildReportsCompileErrors(t *testing.T) {
	_, err := Build(context.Background(), Spec{ModuleDir: "../..", Package: "./does-not-exist", OutDir: t.TempDir()})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("./does-not-exist")) {
		t.Fatalf("want an error naming the package, got %v", err)
	}
}
