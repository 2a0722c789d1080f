package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the --config file: named modules of defaults for /probe.
//
//	modules:
//	  jumbo:
//	    max_size: 9000
//	  https:
//	    proto: tcp
//	    port: 443
//	    timeout: 500ms
//	  check-ssh:
//	    check: true
//	    port: 22
//
// The module "check" ({check: true}: pmtu check's findings) is there
// unless the file names a module so itself.
type Config struct {
	Modules map[string]Options
}

// module is one module as written in the file; its keys are the /probe
// parameter names.
type module struct {
	Proto   string `yaml:"proto"`
	Port    int    `yaml:"port"`
	Family  string `yaml:"family"`
	MaxSize int    `yaml:"max_size"`
	MinSize int    `yaml:"min_size"`
	Tries   int    `yaml:"tries"`
	Timeout string `yaml:"timeout"`
	Trace   bool   `yaml:"trace"`
	Check   bool   `yaml:"check"`
	Profile bool   `yaml:"profile"`
}

type configFile struct {
	Modules map[string]module `yaml:"modules"`
}

// ParseConfig reads a configuration file. Unknown keys are errors, so a
// typo is not silently a default; a bad value names its module and key.
func ParseConfig(b []byte) (*Config, error) {
	var f configFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := &Config{Modules: map[string]Options{}}
	for name, m := range f.Modules {
		if name == "" {
			return nil, errors.New("config: a module has an empty name")
		}
		o := Options{Proto: m.Proto, Port: m.Port, Family: m.Family, MaxSize: m.MaxSize,
			MinSize: m.MinSize, Tries: m.Tries, Trace: m.Trace, Checks: m.Check, Profile: m.Profile}
		if m.Timeout != "" {
			d, err := time.ParseDuration(m.Timeout)
			if err != nil {
				return nil, fmt.Errorf("config: module %s: timeout %q is not a duration", name, m.Timeout)
			}
			o.Timeout = d
		}
		if err := o.Check(); err != nil {
			var pe *ParamError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("config: module %s: %s %q: %s", name, pe.Param, pe.Value, pe.Why)
			}
			return nil, fmt.Errorf("config: module %s: %w", name, err)
		}
		c.Modules[name] = o
	}
	return c, nil
}
