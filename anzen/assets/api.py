"""API of the ledger (mounted at /api/assets/): devices, information systems, software.

Same services and scoping as the screens: a foreign row is a 404, a role without the permission gets a
403, refused values are a 400 with the Japanese messages by field. MAC/IP/dates/CPE accept the same
notations as the screens and come back normalised.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status

from anzen.accounts.models import Organisation
from anzen.accounts.roles import OrgKind, Perm
from anzen.api.routing import endpoint
from anzen.assets import selectors, services
from anzen.assets.models import Device, InformationSystem, Software
from anzen.common.permissions import Actor

router = Router(tags=["assets"])
MAX_LIMIT = 500


class Error(Schema):
    detail: list[str]
    fields: dict[str, list[str]] = {}


ERRORS = {400: Error, 403: Error}


class SystemRef(Schema):
    id: int
    name: str


class SoftwareOut(Schema):
    id: int
    name: str
    version: str
    cpe23: str
    cpe_part: str
    cpe_vendor: str
    cpe_product: str
    cpe_version: str
    no_cpe: bool
    source: str


class DeviceOut(Schema):
    id: int
    kind: str
    status: str
    hostname: str
    owner: str
    os_name: str
    os_version: str
    payment_class: str
    model_name: str
    manufacturer: str
    serial: str
    mac: str
    ip: str | None
    vlan: str
    location: str
    outlet: str
    first_registered: dt.date | None
    remote_maintenance: bool
    last_patch_date: dt.date | None
    notes: str
    systems: list[SystemRef]


class DeviceDetail(DeviceOut):
    software: list[SoftwareOut]


class DeviceList(Schema):
    count: int
    items: list[DeviceOut]


class DeviceIn(Schema):
    kind: str | None = None
    status: str | None = None
    hostname: str | None = None
    owner: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    payment_class: str | None = None
    model_name: str | None = None
    manufacturer: str | None = None
    serial: str | None = None
    mac: str | None = None
    ip: str | None = None
    vlan: str | None = None
    location: str | None = None
    outlet: str | None = None
    first_registered: str | None = None
    remote_maintenance: bool | None = None
    last_patch_date: str | None = None
    notes: str | None = None
    systems: list[int] | None = None


class SoftwareIn(Schema):
    name: str = ""
    version: str = ""
    cpe23: str = ""
    no_cpe: bool = False


class SystemOut(Schema):
    id: int
    name: str
    category: str
    vendor: str | None
    vendor_name: str
    product: str
    version: str
    hosting: str
    information_handled: str
    remote_maintenance: bool
    remote_line_type: str
    remote_vendor: str | None
    contract: str
    disclosure: int | None
    end_of_support: dt.date | None
    notes: str
    device_count: int | None = None


class SystemIn(Schema):
    name: str | None = None
    category: str | None = None
    vendor: str | None = None  # a partner vendor's code
    vendor_name: str | None = None
    product: str | None = None
    version: str | None = None
    hosting: str | None = None
    information_handled: str | None = None
    remote_maintenance: bool | None = None
    remote_line_type: str | None = None
    remote_vendor: str | None = None  # a partner vendor's code
    contract: str | None = None
    disclosure: int | None = None
    end_of_support: str | None = None
    notes: str | None = None


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _refused(error: ValidationError) -> Status:
    fields = {name: [str(m) for m in messages] for name, messages in error.message_dict.items()} \
        if hasattr(error, "error_dict") else {}
    return Status(400, {"detail": [str(message) for message in error.messages], "fields": fields})


def _software(item: Software) -> dict[str, Any]:
    return {name: getattr(item, name) for name in ("id", "name", "version", "cpe23", "cpe_part", "cpe_vendor",
                                                   "cpe_product", "cpe_version", "no_cpe", "source")}


def _device(device: Device, systems: list[InformationSystem] | None = None) -> dict[str, Any]:
    names = ("id", "kind", "status", "hostname", "owner", "os_name", "os_version", "payment_class", "model_name",
             "manufacturer", "serial", "mac", "ip", "vlan", "location", "outlet", "first_registered",
             "remote_maintenance", "last_patch_date", "notes")
    data = {name: getattr(device, name) for name in names}
    listed = systems if systems is not None else getattr(device, "system_list", None)
    if listed is None:
        listed = list(device.systems.all())
    data["systems"] = [{"id": system.pk, "name": system.name} for system in listed]
    return data


def _system(system: InformationSystem) -> dict[str, Any]:
    return {
        "id": system.pk, "name": system.name, "category": system.category,
        "vendor": system.vendor.code if system.vendor else None, "vendor_name": system.vendor_name,
        "product": system.product, "version": system.version, "hosting": system.hosting,
        "information_handled": system.information_handled, "remote_maintenance": system.remote_maintenance,
        "remote_line_type": system.remote_line_type,
        "remote_vendor": system.remote_vendor.code if system.remote_vendor else None, "contract": system.contract,
        "disclosure": system.disclosure_id, "end_of_support": system.end_of_support, "notes": system.notes,
        "device_count": getattr(system, "device_count", None),
    }


def _given(payload: Schema) -> dict[str, Any]:
    return payload.dict(exclude_unset=True)


# --- devices -----------------------------------------------------------------------------------------


@endpoint(router, "get", "/devices", perm=Perm.ASSET_VIEW, response=DeviceList,
          summary="機器の一覧（絞り込み・並べ替え・ページ送り）")
def device_list(request: HttpRequest, q: str = "", kind: str = "", status: str = "", system: int | None = None,
                remote: bool | None = None, sort: str = "hostname", limit: int = 100, offset: int = 0) -> Any:
    criteria = selectors.DeviceFilter(q=q[:100], kind=kind, status=status, system=system, remote=remote, sort=sort)
    queryset = selectors.devices(_actor(request), criteria=criteria)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    rows = selectors.device_page_rows(queryset[offset:offset + limit])
    return {"count": queryset.count(), "items": [_device(device) for device in rows]}


@endpoint(router, "get", "/devices/{device_id}", perm=Perm.ASSET_VIEW, response=DeviceDetail,
          summary="機器の詳細（ソフトウェアを含む）")
def device_detail(request: HttpRequest, device_id: int) -> Any:
    device = selectors.device_detail(_actor(request), device_id)
    return {**_device(device), "software": [_software(item) for item in device.software.all()]}


@endpoint(router, "post", "/devices", perm=Perm.ASSET_MANAGE, response={201: DeviceOut, **ERRORS},
          summary="機器を登録")
def device_create(request: HttpRequest, payload: DeviceIn) -> Any:
    try:
        device = services.device_create(actor=_actor(request), **_given(payload))
    except ValidationError as error:
        return _refused(error)
    return Status(201, _device(device))


@endpoint(router, "patch", "/devices/{device_id}", perm=Perm.ASSET_MANAGE, response={200: DeviceOut, **ERRORS},
          summary="機器を更新（指定した項目だけ）")
def device_update(request: HttpRequest, device_id: int, payload: DeviceIn) -> Any:
    actor = _actor(request)
    device = selectors.device_detail(actor, device_id)
    try:
        services.device_update(actor=actor, device=device, **_given(payload))
    except ValidationError as error:
        return _refused(error)
    return Status(200, _device(selectors.device_detail(actor, device_id)))


@endpoint(router, "post", "/devices/{device_id}/software", perm=Perm.ASSET_MANAGE,
          response={201: SoftwareOut, **ERRORS}, summary="機器にソフトウェアを追加（CPE 2.3 / 2.2、またはCPEなし）")
def software_add(request: HttpRequest, device_id: int, payload: SoftwareIn) -> Any:
    actor = _actor(request)
    device = selectors.device_detail(actor, device_id)
    try:
        item = services.software_add(actor=actor, device=device, **payload.dict())
    except ValidationError as error:
        return _refused(error)
    return Status(201, _software(item))


@endpoint(router, "delete", "/software/{software_id}", perm=Perm.ASSET_MANAGE, response={204: None},
          summary="ソフトウェアを削除")
def software_delete(request: HttpRequest, software_id: int) -> Any:
    actor = _actor(request)
    services.software_remove(actor=actor, software=selectors.software_item(actor, software_id))
    return Status(204, None)


# --- systems -----------------------------------------------------------------------------------------


def _vendor_fields(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    for name in ("vendor", "remote_vendor"):
        if data.get(name):
            found = Organisation.objects.filter(kind=OrgKind.VENDOR, code=data[name]).first()
            data[name] = found if found is not None else -1  # the service refuses an unknown vendor
    return data


@endpoint(router, "get", "/systems", perm=Perm.ASSET_VIEW, response=list[SystemOut],
          summary="医療情報システムの一覧")
def system_list(request: HttpRequest, q: str = "", category: str = "") -> Any:
    return [_system(system) for system in selectors.systems(_actor(request), q=q[:100], category=category)[:1000]]


@endpoint(router, "get", "/systems/{system_id}", perm=Perm.ASSET_VIEW, response=SystemOut,
          summary="医療情報システムの詳細")
def system_detail(request: HttpRequest, system_id: int) -> Any:
    system = selectors.system_detail(_actor(request), system_id)
    system.device_count = system.devices.count()  # type: ignore[attr-defined]
    return _system(system)


@endpoint(router, "post", "/systems", perm=Perm.ASSET_MANAGE, response={201: SystemOut, **ERRORS},
          summary="医療情報システムを登録")
def system_create(request: HttpRequest, payload: SystemIn) -> Any:
    actor = _actor(request)
    try:
        system = services.system_create(actor=actor, **_vendor_fields(actor, _given(payload)))
    except ValidationError as error:
        return _refused(error)
    return Status(201, _system(system))


@endpoint(router, "patch", "/systems/{system_id}", perm=Perm.ASSET_MANAGE, response={200: SystemOut, **ERRORS},
          summary="医療情報システムを更新（指定した項目だけ）")
def system_update(request: HttpRequest, system_id: int, payload: SystemIn) -> Any:
    actor = _actor(request)
    system = selectors.system_detail(actor, system_id)
    try:
        services.system_update(actor=actor, system=system, **_vendor_fields(actor, _given(payload)))
    except ValidationError as error:
        return _refused(error)
    return Status(200, _system(selectors.system_detail(actor, system_id)))
