# Thin wrappers: build.sh does the work.
.PHONY: all jar test run bench clean
all: jar
jar:
	./build.sh jar
test:
	./build.sh test
run:
	./build.sh run
bench:
	./build.sh bench
clean:
	./build.sh clean
