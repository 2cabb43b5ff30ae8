# campus-watcher — 两条命令完成全部准备：
#   make run    安装（首次）并以示例配置启动监测服务
#   make test   安装（首次，含 Debian 的 chromium 与中文字体）并运行全部测试
VENV ?= .venv
CONFIG ?= config/watcher.example.yaml
PYTHON ?= python3
APT_PACKAGES = chromium fonts-wqy-zenhei redis-server

.PHONY: run test setup system-deps lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# Browser tests and evidence screenshots use Debian's chromium (Playwright cannot download its
# own browser here); the several-host tests start Debian's redis-server. Installing needs root;
# without it those tests skip with a reason.
system-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi wqy && [ -x /usr/bin/redis-server ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	else echo "注意：未安装 chromium 或 redis-server（需要 root 执行 apt-get install $(APT_PACKAGES)），浏览器与多主机相关测试将跳过"; fi

run: setup
	$(VENV)/bin/watcher run --config $(CONFIG)

test: setup system-deps
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/python benchmarks/match_eval.py ../shared/eval/cases_hit.jsonl ../shared/eval/school_hit.json
	$(VENV)/bin/python benchmarks/match_speed.py
