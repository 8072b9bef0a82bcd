package main

/*
#include "oxvec.h"
*/
import "C"

import (
	"encoding/json"

	coretext "github.com/oxvec/oxvec/core/text"
)

//export oxv_text_terms
func oxv_text_terms(s *C.char, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	terms := coretext.Terms(C.GoString(s), []string{})
	js, _ := json.Marshal(terms)
	return writeText(js, buf, n, needed)
}
