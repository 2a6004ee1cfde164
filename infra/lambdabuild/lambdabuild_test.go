package lambdabuild

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestListenerArchiveIsReproducible builds the listener twice, into different directories,
// and wants byte-identical archives: otherwise every `pulumi up` would redeploy the function.
// The second directory starts with a stale archive, which the build must replace.
func TestListenerArchiveIsReproducible(t *testing.T) {
	var archives [2][]byte
	var hashes [2]string
	for i := range archives {
		dir := t.TempDir()
		if i == 1 {
			stale, err := Zip([]byte("an older bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "bootstrap.zip"), stale, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		art, err := Build(context.Background(), Spec{ModuleDir: "../..", Package: "./listener", OutDir: dir})
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

// TestArchiveReuse: a rebuild keeps the archive in place only when it holds exactly the new
// binary, and what it keeps is byte for byte what Zip would write.
func TestArchiveReuse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bootstrap.zip")
	binary := bytes.Repeat([]byte("bootstrap binary "), 4096)
	fresh, err := Zip(binary)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := archiveOf(path, binary); ok {
		t.Fatal("reused an archive that does not exist")
	}
	if err := os.WriteFile(path, fresh, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ok := archiveOf(path, binary); !ok || !bytes.Equal(got, fresh) {
		t.Fatalf("did not reuse the archive of the same binary (ok %v)", ok)
	}

	other := append(bytes.Clone(binary[:len(binary)-1]), '!')
	if _, ok := archiveOf(path, other); ok {
		t.Error("reused the archive of another binary of the same size")
	}
	if _, ok := archiveOf(path, binary[:len(binary)-1]); ok {
		t.Error("reused the archive of a longer binary")
	}
	damaged := bytes.Clone(fresh)
	damaged[len(damaged)/3] ^= 0xff
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := archiveOf(path, binary); ok {
		t.Error("reused a damaged archive")
	}
	var foreign bytes.Buffer
	zw := zip.NewWriter(&foreign)
	w, err := zw.Create("bootstrap") // not Zip's header: no fixed time, no mode
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(binary); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, foreign.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := archiveOf(path, binary); ok {
		t.Error("reused an archive Zip did not write")
	}
}

// A module directory given relative to the caller (as a program beside the module gives it,
// e.g. examples/existing-broker's "../..") builds into that module's .build, and the archive
// holds the whole binary: go build runs in the module directory, so every path it is handed
// must not be relative to the caller.
func TestRelativeModuleDir(t *testing.T) {
	art, err := Build(context.Background(), Spec{ModuleDir: "../..", Package: "./listener"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", "..", ".build", "listener-linux-arm64", "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if art.BinaryPath != want {
		t.Errorf("BinaryPath = %s, want %s", art.BinaryPath, want)
	}
	info, err := os.Stat(art.BinaryPath)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() < 1<<20 {
		t.Errorf("the built bootstrap is %d bytes: not the listener", info.Size())
	}
	leaked, err := filepath.Glob(filepath.Join("..", "..", "..", ".build", "listener-linux-arm64", ".bootstrap-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaked {
		if fi, err := os.Stat(l); err == nil && fi.ModTime().After(time.Now().Add(-time.Minute)) {
			t.Errorf("a binary was built outside the module: %s", l)
		}
	}
}
