// Package lambdabuild compiles a Go Lambda function for the provided.al2023 runtime and packs
// it into a deterministic zip archive: the same sources always give a byte-identical archive,
// so Pulumi sees no change in the function's code on a second `pulumi up`.
//
// It is the one build used everywhere: by the Pulumi program (to deploy), by the Makefile (to
// build the binaries) and by the tests (which run the real binary on the host architecture).
package lambdabuild

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Spec describes one Lambda binary to build.
type Spec struct {
	// ModuleDir is the directory of the Go module that holds the function (where go.mod is).
	ModuleDir string
	// Package is the package to build, relative to ModuleDir, for example "./listener".
	Package string
	// OutDir receives the binary and the archive. Defaults to <ModuleDir>/.build/<package base>.
	OutDir string
	// GOARCH is the target architecture. Defaults to "arm64", the architecture the functions
	// are deployed on (Graviton: cheaper per GB-second than x86_64).
	GOARCH string
	// GOOS is the target operating system. Defaults to "linux".
	GOOS string
}

// Artifact is what Build produced.
type Artifact struct {
	// BinaryPath is the built executable, named bootstrap as provided.al2023 requires.
	BinaryPath string
	// ZipPath is the deterministic archive holding only the bootstrap executable.
	ZipPath string
	// SHA256 is the base64-encoded SHA-256 of the archive, the form Lambda's
	// source_code_hash uses.
	SHA256 string
}

// zipEpoch is the modification time written for every archive entry. Zip cannot store times
// before 1980; a fixed time keeps the archive independent of when it was built.
var zipEpoch = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// BuildFlags are the flags every Lambda binary is built with:
//   - lambda.norpc drops aws-lambda-go's legacy net/rpc server, which provided.al2023 never uses
//     (smaller binary, faster start);
//   - -trimpath and an empty build id remove machine-specific paths and ids, so builds are
//     reproducible across machines;
//   - -s -w strip the symbol table and DWARF (smaller binary, faster cold start).
func BuildFlags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}
}

// Build compiles spec.Package and writes the binary and the archive. Files are written to a
// temporary name and renamed into place, so concurrent builds of the same package (parallel
// tests, a preview running beside a test) never see a half-written archive.
func Build(ctx context.Context, spec Spec) (Artifact, error) {
	if spec.ModuleDir == "" || spec.Package == "" {
		return Artifact{}, fmt.Errorf("lambdabuild: ModuleDir and Package are required")
	}
	goos, goarch := orDefault(spec.GOOS, "linux"), orDefault(spec.GOARCH, "arm64")
	// go build runs in the module directory, so a path relative to the caller would land
	// elsewhere (and the archive would hold the empty temporary file): every path is absolute.
	moduleDir, err := filepath.Abs(spec.ModuleDir)
	if err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: %w", err)
	}
	outDir := spec.OutDir
	if outDir == "" {
		outDir = filepath.Join(moduleDir, ".build", filepath.Base(spec.Package)+"-"+goos+"-"+goarch)
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: %w", err)
	}

	tmpBinary, err := os.CreateTemp(outDir, ".bootstrap-*")
	if err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: %w", err)
	}
	tmpBinaryPath := tmpBinary.Name()
	_ = tmpBinary.Close()
	defer os.Remove(tmpBinaryPath)

	args := append([]string{"build"}, BuildFlags()...)
	args = append(args, "-o", tmpBinaryPath, spec.Package)
	// The go toolchain from PATH, with fixed flags and a package of this module.
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: arguments are not from untrusted input
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: go build %s for %s/%s failed: %w\n%s",
			spec.Package, goos, goarch, err, strings.TrimSpace(stderr.String()))
	}

	binary, err := os.ReadFile(tmpBinaryPath) //nolint:gosec // G304: the temporary file this function created
	if err != nil {
		return Artifact{}, fmt.Errorf("lambdabuild: %w", err)
	}
	art := Artifact{
		BinaryPath: filepath.Join(outDir, "bootstrap"),
		ZipPath:    filepath.Join(outDir, "bootstrap.zip"),
	}
	// Deflating a binary of several MB is most of the time of a build the go command had
	// cached, and every preview, plan and test builds: keep the archive in place when it
	// already holds exactly this binary.
	archive, reused := archiveOf(art.ZipPath, binary)
	if !reused {
		if archive, err = Zip(binary); err != nil {
			return Artifact{}, err
		}
	}
	sum := sha256.Sum256(archive)
	art.SHA256 = base64.StdEncoding.EncodeToString(sum[:])
	if err := writeAtomic(art.BinaryPath, binary, 0o755); err != nil {
		return Artifact{}, err
	}
	if !reused {
		if err := writeAtomic(art.ZipPath, archive, 0o644); err != nil {
			return Artifact{}, err
		}
	}
	return art, nil
}

// BuildAll builds several functions at once (the go command and the archiving of one overlap
// with those of the others) and returns their artifacts in the order of specs.
func BuildAll(ctx context.Context, specs ...Spec) ([]Artifact, error) {
	arts := make([]Artifact, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() { arts[i], errs[i] = Build(ctx, spec) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return arts, nil
}

// Zip packs a bootstrap executable into an archive whose bytes depend only on the binary: a
// fixed timestamp, fixed permissions (0755, which Lambda needs to execute it) and nothing else
// that could vary between builds.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	header := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	header.SetMode(0o755)
	w, err := zw.CreateHeader(header)
	if err != nil {
		return nil, fmt.Errorf("lambdabuild: zip: %w", err)
	}
	if _, err := io.Copy(w, bytes.NewReader(bootstrap)); err != nil {
		return nil, fmt.Errorf("lambdabuild: zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("lambdabuild: zip: %w", err)
	}
	return buf.Bytes(), nil
}

// archiveOf returns the archive at path if it is one Zip wrote for exactly this binary: a
// single bootstrap entry with Zip's header and the same bytes. Anything else — no file, another
// binary, a foreign or damaged archive — is not reused.
func archiveOf(path string, bootstrap []byte) ([]byte, bool) {
	archive, err := os.ReadFile(path) //nolint:gosec // G304: the archive this package wrote earlier
	if err != nil {
		return nil, false
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil || len(zr.File) != 1 || zr.Comment != "" {
		return nil, false
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Method != zip.Deflate || !f.Modified.Equal(zipEpoch) || f.Mode() != 0o755 ||
		f.Comment != "" || f.UncompressedSize64 != uint64(len(bootstrap)) {
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	content, err := io.ReadAll(rc) // Open checks the CRC-32 once all is read
	if err != nil || !bytes.Equal(content, bootstrap) {
		return nil, false
	}
	return archive, true
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("lambdabuild: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("lambdabuild: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("lambdabuild: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lambdabuild: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("lambdabuild: %w", err)
	}
	return nil
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
