module rehearsal

go 1.26.8
