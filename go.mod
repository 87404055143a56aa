module github.com/gopy-socketserver/socketserver

go 1.26
