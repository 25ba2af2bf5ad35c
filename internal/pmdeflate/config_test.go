package pmdeflate

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15, Level: 9, Threshold: -1}, true},
		{Config{ServerMaxWindowBits: 7}, false},
		{Config{ClientMaxWindowBits: 16}, false},
		{Config{Level: 10}, false},
		{Config{Level: -1}, false},
		{Config{Threshold: -2}, false},
	} {
		err := tt.cfg.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("Validate(%+v) = %v", tt.cfg, err)
		}
	}
}

func TestConfigShouldCompress(t *testing.T) {
	for _, tt := range []struct {
		threshold, n int
		want         bool
	}{
		{0, 127, false}, {0, 128, true}, {-1, 0, true}, {10, 9, false}, {10, 10, true},
	} {
		if got := (Config{Threshold: tt.threshold}).ShouldCompress(tt.n); got != tt.want {
			t.Errorf("Threshold %d, %d bytes: %v", tt.threshold, tt.n, got)
		}
	}
}
