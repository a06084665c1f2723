"""A tiny, deterministic simulator of the tourism department's legacy credit registry.

    python -m credit_gateway_tourism.registry [--host 127.0.0.1] [--port 9201] [--app-key KEY]

prints ``tourism legacy registry on http://HOST:PORT`` once it listens (``--port 0`` picks a free
port) and serves until interrupted. It holds the four travel agencies of `SAMPLES`, always with the
same records, and answers as the real legacy registry does (see credit_gateway_tourism.legacy):

- ``GET /api/credit-records?code=<USCC>`` → 200 and an envelope: ``0000`` with the record, ``1004``
  when it holds none, ``4001`` when ``--app-key`` is set and ``X-App-Key`` differs;
- ``GET /api/ping`` → 200 ``{"返回码": "0000", "返回信息": "正常"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import orjson
from aiohttp import web

from credit_gateway_tourism.connector import APP_KEY_HEADER, PING_PATH, RECORDS_PATH
from credit_gateway_tourism.legacy import BAD_KEY, NOT_FOUND, OK

PROVINCE = {"发证机关": "湖南省文化和旅游厅", "发证机关代码": "114300000060801136"}
CHANGSHA = "长沙市文化旅游广电局"
CHANGSHA_CODE = "11430100MB19522172"
ZHANGJIAJIE = "张家界市文化旅游广电体育局"
ZHANGJIAJIE_CODE = "11430800MB1T203954"

SAMPLES = {
    "honoured": "91430100MA4PXL0T3C",
    "penalised": "91430102MA4QK7W286",
    "blacklisted": "91430800MA4RTY6N1E",
    "licensed": "91430600MA4TB3L90E",
}
"""Subject ids by what their records show; every one is a valid unified social credit code."""


def _licence(number: str, document: str, issued: str) -> dict[str, str]:
    return {
        "许可证编号": number,
        "许可文书号": document,
        "许可类别": "旅行社业务经营许可证",
        "经营范围": "国内旅游业务；入境旅游业务",
        "发证日期": issued,
        "有效期至": "",
        **PROVINCE,
    }


RECORDS: dict[str, dict[str, object]] = {
    SAMPLES["honoured"]: {
        "统一社会信用代码": SAMPLES["honoured"],
        "机构名称": "湖南潇湘国际旅行社有限公司",
        "更新时间": "2025-06-01 09:30:00",
        "经营许可": [_licence("L-HUN-100123", "湘文旅许〔2019〕12号", "2019/05/12")],
        "行政处罚": [],
        "名单信息": [
            {
                "名单类别": "红名单",
                "名单名称": "湖南省文明旅游示范单位",
                "列入日期": "20250110",
                "移出日期": "",
                "有效期至": "2028-01-09",
                "列入原因": "连续三年服务质量评价优秀，无有效投诉",
                "列入依据": "《湖南省文明旅游示范单位评定办法》第八条",
                "认定文书号": "湘文旅函〔2025〕3号",
                "认定机关": "湖南省文化和旅游厅",
                "认定机关代码": "114300000060801136",
            }
        ],
        "信用等级": {
            "等级": "A",
            "评分": "95.5",
            "评价年度": "2025",
            "评定日期": "2026/03/02",
            "有效期至": "2027-03-01",
            "评定机关": "湖南省文化和旅游厅",
            "评定机关代码": "114300000060801136",
        },
        "质量保证金（万元）": "20",
    },
    SAMPLES["penalised"]: {
        "统一社会信用代码": SAMPLES["penalised"],
        "机构名称": "长沙星城假日旅行社有限公司",
        "更新时间": "2025-05-20 16:05:12",
        "经营许可": [_licence("L-HUN-100456", "湘文旅许〔2020〕88号", "20200703")],
        "行政处罚": [
            {
                "处罚决定书文号": "长文旅罚〔2024〕17号",
                "违法行为类型": "未与旅游者签订书面旅游合同",
                "违法事实": (
                    "2024年1月，当事人组织“张家界三日游”旅游团，未与旅游者签订书面旅游合同。"
                ),
                "处罚依据": "《中华人民共和国旅游法》第一百条第一项",
                "处罚类别": "警告,罚款",
                "处罚内容": "警告；罚款人民币2.5万元",
                "罚款金额（万元）": "2.5",
                "没收金额（万元）": "",
                "处罚决定日期": "20240315",
                "处罚机关": CHANGSHA,
                "处罚机关代码": CHANGSHA_CODE,
                "严重程度": "一般",
                "公示截止日期": "2027-03-15",
                "信用修复日期": "",
            }
        ],
        "名单信息": [],
        "信用等级": {
            "等级": "B",
            "评分": "78",
            "评价年度": "2024",
            "评定日期": "2025-03-01",
            "有效期至": "",
            "评定机关": "湖南省文化和旅游厅",
        },
        "质量保证金（万元）": "20",
    },
    SAMPLES["blacklisted"]: {
        "统一社会信用代码": SAMPLES["blacklisted"],
        "机构名称": "张家界云天旅游服务有限公司",
        "更新时间": "2025-04-02 11:00:00",
        "经营许可": [],
        "行政处罚": [
            {
                "处罚决定书文号": "张文旅体罚〔2024〕5号",
                "违法行为类型": "强迫或者变相强迫旅游者购物",
                "违法事实": "当事人安排旅游者在指定购物场所停留并强迫购物，涉案旅游者32人。",
                "处罚依据": "《中华人民共和国旅游法》第九十八条",
                "处罚类别": "没收违法所得，罚款、吊销旅行社业务经营许可证",
                "处罚内容": "没收违法所得人民币4.2万元；罚款人民币30万元；吊销旅行社业务经营许可证",
                "罚款金额（万元）": "30",
                "没收金额（万元）": 4.2,
                "处罚决定日期": "2024-11-20",
                "处罚机关": ZHANGJIAJIE,
                "处罚机关代码": ZHANGJIAJIE_CODE,
                "严重程度": "严重",
                "公示截止日期": "",
                "信用修复日期": "",
            }
        ],
        "名单信息": [
            {
                "名单类别": "黑名单",
                "名单名称": "全国旅游市场黑名单",
                "列入日期": "2025-01-06",
                "移出日期": "",
                "有效期至": "2028-01-05",
                "列入原因": "因侵害旅游者合法权益，被处以吊销旅行社业务经营许可证的行政处罚",
                "列入依据": "《旅游市场黑名单管理办法（试行）》第六条第二项",
                "认定文书号": "张文旅体黑〔2025〕1号",
                "认定机关": ZHANGJIAJIE,
                "认定机关代码": ZHANGJIAJIE_CODE,
            }
        ],
        "信用等级": {
            "等级": "D",
            "评分": "35",
            "评价年度": "2024",
            "评定日期": "2025-03-01",
            "有效期至": "",
            "评定机关": "湖南省文化和旅游厅",
        },
        "质量保证金（万元）": "",
    },
    SAMPLES["licensed"]: {
        "统一社会信用代码": SAMPLES["licensed"],
        "机构名称": "岳阳洞庭湖观光旅行社有限公司",
        "更新时间": "2024-12-30 08:00:00",
        "经营许可": [_licence("L-HUN-100789", "湘文旅许〔2023〕140号", "2023-08-21")],
        "行政处罚": [],
        "名单信息": [],
        "信用等级": None,
        "质量保证金（万元）": "20",
    },
}
"""The legacy payloads, exactly as the registry stores them (quirks included)."""

APP_KEY = web.AppKey("app_key", str)


def create_app(app_key: str | None = None) -> web.Application:
    """The legacy API; with `app_key`, requests must send it in ``X-App-Key``."""
    app = web.Application()
    if app_key is not None:
        app[APP_KEY] = app_key
    app.router.add_get(RECORDS_PATH, _records)
    app.router.add_get(PING_PATH, _ping)
    return app


def _envelope(code: str, message: str, data: object = None) -> web.Response:
    body = {"返回码": code, "返回信息": message, "数据": data}
    # The legacy registry says text/plain; the connector does not care.
    return web.Response(body=orjson.dumps(body), content_type="text/plain", charset="utf-8")


async def _records(request: web.Request) -> web.Response:
    expected = request.app.get(APP_KEY)
    if expected is not None and request.headers.get(APP_KEY_HEADER) != expected:
        return _envelope(BAD_KEY, "应用密钥无效")
    code = request.query.get("code", "").strip().upper()
    record = RECORDS.get(code)
    if record is None:
        return _envelope(NOT_FOUND, "无此主体信用记录")
    return _envelope(OK, "成功", record)


async def _ping(request: web.Request) -> web.Response:
    return _envelope(OK, "正常")


async def serve(host: str, port: int, app_key: str | None) -> None:
    """Listen, print the URL, and serve until SIGINT or SIGTERM."""
    runner = web.AppRunner(create_app(app_key), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        print(f"tourism legacy registry on http://{shown}:{bound}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m credit_gateway_tourism.registry",
        description="A simulator of the tourism department's legacy credit registry.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9201, help="0 picks a free port (9201)")
    parser.add_argument("--app-key", help="require this X-App-Key on record requests")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.app_key))
    except OSError as exc:
        print(f"tourism registry: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
