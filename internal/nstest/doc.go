// Package nstest makes throw-away network namespaces for tests that need a
// network of their own (a loopback nobody else uses, sysctls they may
// change). Linux only.
package nstest
