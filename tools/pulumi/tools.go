//go:build tools

// Package tools pins the Pulumi CLI (and the SDK whose version variable the
// build stamps via -ldflags) for scripts/ensure-pulumi, which builds them from
// the Go module proxy into a cache outside the repository.
//
// The Python language host (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// belongs here too, but the module proxy does not serve it: see NOTES-blocked.txt.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
