"""What the asynchronous scan operators build on: the documents they submit and scan properties."""
