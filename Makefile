# campus-watcher — 一条命令看到产品，两条命令完成全部准备：
#   make demo   安装（首次）并启动本机演示环境（模拟平台、监测服务、告警邮箱、复核网站）
#   make run    安装（首次）并以示例配置启动监测服务，先打印接下来的步骤（复核网站另行启动）
#   make test   安装（首次，含 Debian 的 chromium 与中文字体）并运行全部测试
# Python 不是 3.11 以上时用 PYTHON= 指定，例如 make demo PYTHON=python3.12
VENV ?= .venv
CONFIG ?= config/watcher.example.yaml
PYTHON ?= python3
APT_PACKAGES = chromium fonts-wqy-zenhei redis-server
# The target the user typed, for the PYTHON= hint ("make demo PYTHON=python3.12").
GOAL ?= $(or $(firstword $(MAKECMDGOALS)),setup)

.PHONY: run demo test setup python-check system-deps lint bench screenshots

# Python ≥ 3.11 with venv (Debian/Ubuntu ship venv separately, as python3-venv / python3.X-venv):
# installed when root, otherwise the exact apt-get command is printed.
python-check:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "错误：找不到 $(PYTHON)。请先安装：sudo apt-get install -y python3 python3-venv；或用 PYTHON= 指定解释器，如 make $(GOAL) PYTHON=python3.12"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "错误：campus-watcher 需要 Python ≥ 3.11，而 $(PYTHON) 是 $$($(PYTHON) -V 2>&1)。请安装更新的 Python（如 sudo apt-get install -y python3.11 python3.11-venv），再用 PYTHON= 指定：make $(GOAL) PYTHON=python3.11"; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  pkg="python$$($(PYTHON) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"; \
	  if [ "$$(id -u)" = 0 ]; then echo "安装 $$pkg（创建虚拟环境所需）…"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg python3-venv; \
	  else echo "错误：$(PYTHON) 缺少 venv 模块。请先安装：sudo apt-get install -y $$pkg"; exit 1; fi; }

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory python-check PYTHON=$(PYTHON) GOAL=$(GOAL)
	@test -x $(VENV)/bin/pip || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
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

demo: setup
	$(VENV)/bin/watcher demo

# The daemon alone: the review site, the registry, logins and users are the next steps, printed
# first (docs/quickstart.md has them all).
run: setup
	@echo "以 $(CONFIG) 启动监测服务（Ctrl+C 停止；不含复核网站）。另开一个终端完成其余步骤："
	@echo "  1. 校验配置并估算巡检能力：$(VENV)/bin/watcher check-config -c $(CONFIG)"
	@echo "  2. 导入备案台账（首次启动也会自动导入配置中的台账）：$(VENV)/bin/watcher registry import 台账.xlsx -c $(CONFIG)"
	@echo "  3. 登录需要会话的平台：$(VENV)/bin/watcher login weibo -c $(CONFIG)"
	@echo "  4. 创建复核人员：$(VENV)/bin/watcher users add xcb --role 宣传部复核员 -c $(CONFIG)"
	@echo "  5. 启动复核网站：$(VENV)/bin/watcher web -c $(CONFIG)，浏览器打开 http://127.0.0.1:8080"
	@echo "  完整步骤（含 systemd）见 docs/quickstart.md"
	$(VENV)/bin/watcher run --config $(CONFIG)

# Three workers on the 2-core server: many tests wait on crawl subprocesses and Chromium, and a
# third worker fills those waits (measured 7:19 against 8:40 with two and 8:05 with four);
# worksteal keeps a long end-to-end test from leaving the others idle at the end.
test: setup system-deps
	$(VENV)/bin/pytest -n 3 --dist worksteal

lint: setup
	$(VENV)/bin/ruff check .

screenshots: setup system-deps
	$(VENV)/bin/python docs/screenshots.py

bench: setup
	$(VENV)/bin/python benchmarks/match_eval.py ../shared/eval/cases_hit.jsonl ../shared/eval/school_hit.json
	$(VENV)/bin/python benchmarks/match_speed.py
