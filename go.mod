module github.com/t1610d/t1610d

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/elastic/go-libaudit/v2 v2.6.2
	github.com/rs/zerolog v1.35.1
	github.com/spf13/pflag v1.0.10
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/sys v0.29.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
