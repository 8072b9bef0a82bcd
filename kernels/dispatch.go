package kernels

// Dot returns the inner product of a and b (len(b) >= len(a)).
var Dot = dotGeneric

// L2Sq returns the squared euclidean distance of a and b (len(b) >= len(a)).
var L2Sq = l2SqGeneric
