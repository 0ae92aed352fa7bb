module github.com/batchring/batchring/bench/peers

go 1.26.0

require github.com/batchring/batchring v0.0.0

require github.com/Workiva/go-datastructures v1.1.7 // indirect

replace github.com/batchring/batchring => ../..
