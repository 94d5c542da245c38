from django.urls import path

from instances import exclusion_views, media_views, simulator_views, views

app_name = "instances"
urlpatterns = [
    path("", views.instance_list, name="list"),
    path("adicionar/", views.instance_create, name="create"),
    path("documentacao/", views.docs, name="docs"),
    path(
        "documentacao/migrar-do-z-api/",
        views.docs_migrate_zapi,
        name="docs_migrate_zapi",
    ),
    path("<uuid:instance_id>/", views.instance_detail, name="detail"),
    path("<uuid:instance_id>/qr/", views.instance_qr, name="qr"),
    path("<uuid:instance_id>/conectar/", views.instance_connect, name="connect"),
    path("<uuid:instance_id>/conectar-com-codigo/", views.instance_pair, name="pair"),
    path(
        "<uuid:instance_id>/desconectar/", views.instance_disconnect, name="disconnect"
    ),
    path("<uuid:instance_id>/excluir/", views.instance_delete, name="delete"),
    path(
        "<uuid:instance_id>/novo-token/", views.instance_token_regenerate, name="token"
    ),
    path("<uuid:instance_id>/editar/", views.instance_edit, name="edit"),
    path("<uuid:instance_id>/perfil/", views.instance_profile, name="profile"),
    path(
        "<uuid:instance_id>/exclusao/",
        exclusion_views.exclusion_list,
        name="exclusions",
    ),
    path(
        "<uuid:instance_id>/exclusao/adicionar/",
        exclusion_views.exclusion_add,
        name="exclusion_add",
    ),
    path(
        "<uuid:instance_id>/exclusao/importar/",
        exclusion_views.exclusion_import,
        name="exclusion_import",
    ),
    path(
        "<uuid:instance_id>/exclusao/importacoes/<int:import_id>/",
        exclusion_views.exclusion_import_detail,
        name="exclusion_import_detail",
    ),
    path(
        "<uuid:instance_id>/exclusao/exportar/",
        exclusion_views.exclusion_export,
        name="exclusion_export",
    ),
    path(
        "<uuid:instance_id>/exclusao/<int:entry_id>/remover/",
        exclusion_views.exclusion_remove,
        name="exclusion_remove",
    ),
    path(
        "simulador/qr/<str:code>/",
        simulator_views.simulator_scan,
        name="simulator_scan",
    ),
    path(
        "simulador/codigo/", simulator_views.simulator_pairing, name="simulator_pairing"
    ),
    path(
        "<uuid:instance_id>/celular-simulado/",
        simulator_views.simulator_phone,
        name="simulator_phone",
    ),
    path(
        "<uuid:instance_id>/celular-simulado/enviar/<str:kind>/",
        simulator_views.simulator_phone_send,
        name="simulator_phone_send",
    ),
]

# Public download links of media, at the site's root (/midia/...), as "media:".
media_urlpatterns = [
    path("<str:signed>/<str:file_name>", media_views.media_download, name="download"),
]
