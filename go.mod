module github.com/oxvec/oxvec

go 1.22
