module github.com/batchring/batchring/bench/peers

go 1.26.0

require (
	github.com/Workiva/go-datastructures v1.1.7
	github.com/batchring/batchring v0.0.0
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/batchring/batchring => ../..
