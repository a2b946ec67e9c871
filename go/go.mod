module ironicmdns

go 1.19
