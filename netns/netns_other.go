//go:build !linux

package netns

import "errors"

// Do is only implemented on Linux.
func Do(name string, fn func() error) error { return errors.ErrUnsupported }

// ID is only implemented on Linux.
func ID(name string) (string, error) { return "", errors.ErrUnsupported }

// Current is only implemented on Linux.
func Current() (string, error) { return "", errors.ErrUnsupported }
