"""The catalogues the 一标三实 refer to, through the API: /api/catalogues/resident-tags/ and
/api/catalogues/unit-types/. Every signed-in user reads them (forms and filters list them);
administrators extend them. Entries are never deleted and their codes never change, since
residents and units hold the codes: `active: false` retires an entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, viewsets

from grids import scoping
from grids.models import ResidentTagKind, UnitType

CODE_PATTERN = "[-a-zA-Z0-9_]+"
MAX_LEVELS = 20


class AdministratorsWrite(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or scoping.sees_everything(request.user)


class CatalogueSerializer(serializers.ModelSerializer):
    def validate_code(self, value):
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError(
                _("a code cannot change once given: records hold it; retire the entry instead")
            )
        return value


class ResidentTagKindSerializer(CatalogueSerializer):
    levels = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=MAX_LEVELS,
        required=False,
        help_text=_("the level names in order (e.g. 一级, 二级); empty when the tag has none"),
    )

    class Meta:
        model = ResidentTagKind
        fields = ["code", "name", "group", "levels", "order", "active"]

    def validate_levels(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("each level is named once"))
        return value


class UnitTypeSerializer(CatalogueSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code",
        queryset=UnitType.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("the 大类 this type belongs to (its code); none for a 大类"),
    )
    parent_name = serializers.CharField(
        source="parent.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = UnitType
        fields = ["code", "name", "parent", "parent_name", "order", "active"]

    def validate_parent(self, value):
        if value is None:
            return value
        if value.parent_id is not None:
            # Two levels, 大类 and 小类, as the figures count them (a 大类 counts its 小类).
            raise serializers.ValidationError(
                _("a type's parent is a 大类 (a type with no parent)")
            )
        if self.instance is not None and (
            value.pk == self.instance.pk or self.instance.children.exists()
        ):
            raise serializers.ValidationError(
                _("a 大类 with types of its own cannot be placed under another")
            )
        return value


class CatalogueViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [permissions.IsAuthenticated, AdministratorsWrite]
    pagination_class = None  # a catalogue is small and read whole
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN


class ResidentTagKindViewSet(CatalogueViewSet):
    """Kinds of resident tag (关爱对象, 重点人群, 身份) with their levels."""

    serializer_class = ResidentTagKindSerializer
    queryset = ResidentTagKind.objects.order_by("order", "code")


class UnitTypeViewSet(CatalogueViewSet):
    """Unit types: 大类 and their 小类."""

    serializer_class = UnitTypeSerializer
    queryset = UnitType.objects.select_related("parent").order_by("order", "code")
