package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// applyEnv overrides fields from ANPR_* variables. The variable names are derived from the YAML
// tags, so every setting can be overridden and no name is maintained by hand. Every malformed
// value is reported, not just the first.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "ANPR_") {
			env[k] = v
		}
	}
	known := map[string]bool{}
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), "ANPR", func(name string, f reflect.Value) {
		known[name] = true
		v, ok := env[name]
		if !ok {
			return
		}
		if err := setField(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	for k := range env {
		if !known[k] && !ignoredEnv[k] && !strings.HasPrefix(k, "ANPR_TEST_") {
			errs = append(errs, fmt.Errorf("%s: no such setting", k))
		}
	}
	return errors.Join(errs...)
}

// ignoredEnv are ANPR_ variables read by other parts (the CLI), not by this struct; ANPR_TEST_*
// variables belong to the test suites.
var ignoredEnv = map[string]bool{
	"ANPR_CONFIG":         true,
	"ANPR_INGEST_API_KEY": true, // the ingest CLI's key for --server; never stored in config
	"ANPR_DEMO":           true, // make run's banner
}

// EnvNames lists every environment variable the config understands, for the README and --help.
func EnvNames() []string {
	var names []string
	cfg := Default()
	walkFields(reflect.ValueOf(&cfg).Elem(), "ANPR", func(name string, _ reflect.Value) {
		names = append(names, name)
	})
	return names
}

func walkFields(v reflect.Value, prefix string, fn func(name string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Time{}) {
			walkFields(f, name, fn)
			continue
		}
		fn(name, f)
	}
}

func setField(f reflect.Value, v string) error {
	if f.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s, 5m, 2160h)", v)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		f.SetBool(b)
	case reflect.Slice:
		var items []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	case reflect.Map:
		// value=role pairs separated by commas: "ANPR.Investigator=investigator,ANPR.Auditor=auditor".
		if f.Type().Key().Kind() != reflect.String || f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported setting type %s", f.Type())
		}
		m := map[string]string{}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			k, val, ok := strings.Cut(item, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("%q: write key=value pairs separated by commas", item)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		f.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}
