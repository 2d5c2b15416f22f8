module github.com/covlens/covlens/collector/go

go 1.22
