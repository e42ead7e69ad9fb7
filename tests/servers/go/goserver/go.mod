module beyla.test/goserver

go 1.19
