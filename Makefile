# Thin wrappers: build.sh does the work.
.PHONY: all test run bench clean
all:
	./build.sh jar
test:
	./build.sh test
run:
	./build.sh run
bench:
	./build.sh bench
clean:
	./build.sh clean
